"""Give the C heap's free pages back to the system every minute (glibc ``malloc_trim``), so RSS follows use.

glibc returns freed memory to the system only from the top of its heap; free space between blocks still in use
stays resident. A service that handles bursts (a backlog of bus messages after a start, big sync batches) and keeps
long-lived objects among the short-lived ones holds more and more such free space: under ``bench/soak.py`` the
background process (sync, features, inference, console) had 15 -> 37 MB free inside its heap within ten minutes
while its live data shrank, and one ``malloc_trim(0)`` dropped its anonymous RSS from 145 to 122 MB.
``malloc_trim(0)`` releases every whole free page inside the heap (``MADV_DONTNEED``); the blocks in use stay put.

:func:`start_from_env` starts a daemon thread that trims every ``EDGEWATCH_MALLOC_TRIM_EVERY`` seconds (default
60; ``0`` turns it off). Where the C library has no ``malloc_trim`` (musl, macOS) nothing runs.

It also fixes glibc's mmap threshold at ``EDGEWATCH_MALLOC_MMAP_THRESHOLD`` bytes (default 1 MiB; ``0`` keeps
glibc's dynamic threshold). glibc raises that threshold to the size of every mmapped block freed (up to 32 MiB),
so after the first resize of a big dict (core's event index: two tables of 15 and 21 MB for 290,000 events, resized
every ~400,000 events under churn) the next table of that size lands inside the heap instead of its own mapping,
and when it is freed its pages stay resident as a hole. With a fixed threshold big tables always get their own
mapping, given back whole when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable

__all__ = ["ENV_EVERY", "ENV_MMAP_THRESHOLD", "fix_mmap_threshold", "start_from_env", "trim"]

ENV_EVERY = "EDGEWATCH_MALLOC_TRIM_EVERY"
ENV_MMAP_THRESHOLD = "EDGEWATCH_MALLOC_MMAP_THRESHOLD"
DEFAULT_EVERY = 60.0
DEFAULT_MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _libc(symbol: str, *argtypes: type[ctypes.c_int] | type[ctypes.c_size_t]) -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    try:
        fn = getattr(ctypes.CDLL(name), symbol) if name else None
    except (OSError, AttributeError):
        return None
    if fn is not None:
        fn.argtypes = list(argtypes)
        fn.restype = ctypes.c_int
    return fn


_TRIM = _libc("malloc_trim", ctypes.c_size_t)
_MALLOPT = _libc("mallopt", ctypes.c_int, ctypes.c_int)


def trim() -> bool | None:
    """Release the free pages of the C heap now: True if some were released, None without ``malloc_trim``."""
    return None if _TRIM is None else bool(_TRIM(0))


def fix_mmap_threshold(nbytes: int) -> bool:
    """Fix glibc's mmap threshold at ``nbytes`` (no more dynamic raising); False where unsupported."""
    return _MALLOPT is not None and bool(_MALLOPT(_M_MMAP_THRESHOLD, nbytes))


def start_from_env(name: str) -> bool:
    """Fix the mmap threshold (unless ``EDGEWATCH_MALLOC_MMAP_THRESHOLD`` is 0) and start the trimming thread of
    process ``name`` (its thread's name) unless turned off or unsupported; True when the thread runs."""
    threshold = int(os.environ.get(ENV_MMAP_THRESHOLD, DEFAULT_MMAP_THRESHOLD))
    if threshold > 0:
        fix_mmap_threshold(threshold)
    every = float(os.environ.get(ENV_EVERY, DEFAULT_EVERY))
    if every <= 0 or _TRIM is None:
        return False

    def loop() -> None:
        while True:
            time.sleep(every)
            trim()

    threading.Thread(target=loop, name=f"malloc-trim-{name}", daemon=True).start()
    return True
