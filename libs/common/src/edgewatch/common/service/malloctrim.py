"""Give the C heap's free pages back to the system every minute (glibc ``malloc_trim``), so RSS follows use.

glibc returns freed memory to the system only from the top of its heap; free space between blocks still in use
stays resident. A service that handles bursts (a backlog of bus messages after a start, big sync batches) and keeps
long-lived objects among the short-lived ones holds more and more such free space: under ``bench/soak.py`` the
background process (sync, features, inference, console) had 15 -> 37 MB free inside its heap within ten minutes
while its live data shrank, and one ``malloc_trim(0)`` dropped its anonymous RSS from 145 to 122 MB.
``malloc_trim(0)`` releases every whole free page inside the heap (``MADV_DONTNEED``); the blocks in use stay put.

:func:`start_from_env` starts a daemon thread that trims every ``EDGEWATCH_MALLOC_TRIM_EVERY`` seconds (default
60; ``0`` turns it off). Where the C library has no ``malloc_trim`` (musl, macOS) nothing runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable

__all__ = ["ENV_EVERY", "start_from_env", "trim"]

ENV_EVERY = "EDGEWATCH_MALLOC_TRIM_EVERY"
DEFAULT_EVERY = 60.0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        fn = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if fn is not None:
        fn.argtypes = [ctypes.c_size_t]
        fn.restype = ctypes.c_int
    return fn


_TRIM = _malloc_trim()


def trim() -> bool | None:
    """Release the free pages of the C heap now: True if some were released, None without ``malloc_trim``."""
    return None if _TRIM is None else bool(_TRIM(0))


def start_from_env(name: str) -> bool:
    """Start the trimming thread of process ``name`` (its thread's name) unless turned off or unsupported."""
    every = float(os.environ.get(ENV_EVERY, DEFAULT_EVERY))
    if every <= 0 or _TRIM is None:
        return False

    def loop() -> None:
        while True:
            time.sleep(every)
            trim()

    threading.Thread(target=loop, name=f"malloc-trim-{name}", daemon=True).start()
    return True
