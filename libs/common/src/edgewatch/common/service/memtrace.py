"""Debug hook, off by default: tracemalloc snapshots of a running service, for finding what grows under load.

Set ``EDGEWATCH_TRACEMALLOC_DIR`` to a directory and every service started with :func:`service_main` starts
tracemalloc (``EDGEWATCH_TRACEMALLOC_FRAMES`` frames per trace, default 4) and a daemon thread that writes
``<dir>/<service>-<seconds>.snap`` every ``EDGEWATCH_TRACEMALLOC_EVERY`` seconds (default 300). Compare two with
``python -m edgewatch.common.service.memtrace OLD NEW`` (the top growing allocation sites).
``EDGEWATCH_TRACEMALLOC_SERVICES`` (comma-separated service names) limits it to those services. Unset, nothing runs:
tracemalloc slows every allocation and costs memory, so it is never on in production.

Beside each snapshot, ``<dir>/<service>-<seconds>.mem.json`` holds what tracemalloc cannot see (:func:`native`):
the process's ``/proc/self/smaps_rollup`` (anonymous vs file-backed RSS) and glibc's ``mallinfo2`` (bytes the C
heap has in use, bytes it holds free: fragmentation, mmapped blocks), so Python heap growth, native heap growth and
fragmentation tell apart.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

__all__ = ["ENV_DIR", "diff", "native", "start_from_env"]

ENV_DIR = "EDGEWATCH_TRACEMALLOC_DIR"


_MALLINFO2 = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in _MALLINFO2]


def native() -> dict[str, int]:
    """Memory figures outside tracemalloc's view, in bytes: smaps_rollup's ``Rss``/``Anonymous``/... lines (Linux)
    and glibc's ``mallinfo2`` (``arena``: heap from sbrk, ``hblkhd``: mmapped blocks, ``uordblks``: in use,
    ``fordblks``: free inside the heap); each part is absent where the platform lacks it."""
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                out["smaps_" + key.strip()] = int(parts[0]) * 1024
    except OSError:
        pass
    libc_name = ctypes.util.find_library("c")
    try:
        fn = ctypes.CDLL(libc_name).mallinfo2 if libc_name else None
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        fn.restype = _Mallinfo2
        mi = fn()
        out.update({"mallinfo2_" + n: int(getattr(mi, n)) for n in _MALLINFO2})
    return out


def start_from_env(name: str) -> bool:
    """Start tracemalloc and the snapshot thread when ``EDGEWATCH_TRACEMALLOC_DIR`` is set; False otherwise."""
    where = os.environ.get(ENV_DIR, "")
    only = [x for x in os.environ.get("EDGEWATCH_TRACEMALLOC_SERVICES", "").split(",") if x]
    if not where or (only and name not in only):
        return False
    out = Path(where)
    out.mkdir(parents=True, exist_ok=True)
    every = float(os.environ.get("EDGEWATCH_TRACEMALLOC_EVERY", "300"))
    tracemalloc.start(int(os.environ.get("EDGEWATCH_TRACEMALLOC_FRAMES", "4")))
    t0 = time.monotonic()

    def loop() -> None:
        while True:
            time.sleep(every)
            snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            stem = f"{name}-{time.monotonic() - t0:06.0f}"
            snap.dump(str(out / f"{stem}.snap"))
            (out / f"{stem}.mem.json").write_text(json.dumps(native()))

    threading.Thread(target=loop, name="memtrace", daemon=True).start()
    return True


def diff(old: Path, new: Path, top: int = 20, key: str = "traceback") -> list[str]:
    """The ``top`` allocation sites that grew most from snapshot ``old`` to ``new``, one line each (plus frames)."""
    a, b = tracemalloc.Snapshot.load(str(old)), tracemalloc.Snapshot.load(str(new))
    lines = [
        f"total {sum(s.size for s in a.statistics('filename')) / 1e6:.2f} -> "
        f"{sum(s.size for s in b.statistics('filename')) / 1e6:.2f} MB traced"
    ]
    for st in b.compare_to(a, key)[:top]:
        lines.append(f"{st.size_diff / 1024:+9.1f} KiB {st.count_diff:+7d} blocks (now {st.size / 1024:.1f} KiB)")
        lines += [f"      {f.filename}:{f.lineno}" for f in st.traceback]
    return lines


if __name__ == "__main__":
    print("\n".join(diff(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 20)))
