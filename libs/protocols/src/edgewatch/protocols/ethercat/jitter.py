"""Cycle statistics of a cyclic master: counters and a 1 us jitter histogram (lock-free: one writer thread)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass, field

__all__ = ["CycleStats", "JitterHistogram", "realtime", "tight_timer_slack"]

_PR_SET_TIMERSLACK = 29


class JitterHistogram:
    """|actual period - nominal period| in 1 us buckets up to ``limit_us`` (larger values in the last bucket)."""

    def __init__(self, limit_us: int = 50_000) -> None:
        self.counts = [0] * (limit_us + 1)
        self.limit = limit_us
        self.max_ns = 0

    def add(self, deviation_ns: int) -> None:
        """Count one cycle."""
        us = deviation_ns // 1000
        self.counts[us if us < self.limit else self.limit] += 1
        if deviation_ns > self.max_ns:
            self.max_ns = deviation_ns

    @property
    def total(self) -> int:
        """Cycles counted."""
        return sum(self.counts)

    def percentile(self, p: float) -> int:
        """The bucket (us) at or below which ``p`` percent of cycles lie (0 when empty)."""
        total = self.total
        if not total:
            return 0
        rank = p / 100.0 * total
        seen = 0
        for us, n in enumerate(self.counts):
            seen += n
            if seen >= rank:
                return us
        return self.limit


@dataclass(slots=True)
class CycleStats:
    """What the cyclic thread counts."""

    cycles: int = 0
    wkc_errors: int = 0
    overruns: int = 0
    last_wkc: int = 0
    expected_wkc: int = 0
    jitter: JitterHistogram = field(default_factory=JitterHistogram)


def tight_timer_slack() -> bool:
    """Set this thread's timer slack to 1 ns (Linux prctl), so sleeps end on time; False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def realtime(priority: int) -> str:
    """Run this thread under SCHED_FIFO at ``priority`` (1-99; 0 leaves it alone); "" or why it could not."""
    if priority <= 0:
        return ""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # pid 0: the calling thread
    except (OSError, AttributeError) as e:
        return f"SCHED_FIFO {priority} refused: {e}"
    return ""
