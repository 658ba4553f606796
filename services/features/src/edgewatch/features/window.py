"""Windowing with a timestamp policy: sample blocks of a waveform, and slow samples of a device's resources.

Policy (documented in the README, counted in :class:`WindowStats`):
- Waveform blocks: a block's ``origin`` is the time of its first sample. A block that starts at the origin of
  one of the last 8 blocks is a **duplicate**; one that starts before the previous block, or earlier than the
  expected next sample by more than ``max_gap_samples`` periods, is **out of order**; both are dropped. A block
  that starts more than ``max_gap_samples`` periods after the expected next sample is a **gap**: the partial
  window is discarded and windowing restarts at the block. Smaller deviations are timestamp jitter: the block
  is appended and window times follow the sample count from the first block.
- Slow samples: a sample whose (resource, origin) is already buffered is a **duplicate** (dropped). A sample
  older than the open window is **late** (dropped). A sample that arrives out of order inside the open window
  is **reordered** (kept; the window is sorted when it closes). A window closes once a sample of the device
  reaches ``end + lateness``. A window missing ``min_samples`` of any resource is **incomplete** (dropped);
  a step between samples larger than ``max_gap`` flags the window ``gap``. At most :data:`MAX_BUFFERED`
  samples per resource wait for a window (**overflow** drops the oldest), so a silent clock resource of a
  count window cannot grow memory without bound.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_BUFFERED", "ScalarWindow", "ScalarWindower", "WaveformWindower", "ns"]

MAX_BUFFERED = 100_000
"""Slow samples kept per resource at most; older ones are dropped and counted ``overflow``."""


class WaveformWindower:
    """Count windows of ``n`` samples every ``hop`` samples over contiguous blocks of one resource."""

    def __init__(self, n: int, hop: int, fs: float, max_gap_samples: int, stats: Counter[str]) -> None:
        self.n = n
        self.hop = hop
        self.fs = fs
        self.period_ns = 1e9 / fs
        self.slack_ns = max(0.5, max_gap_samples) * self.period_ns
        self.stats = stats
        self._buf = np.empty(max(2 * n, 8192), dtype=np.float64)
        self.fill = 0  # buffered samples
        self._start_ns = 0.0  # origin of _buf[0]
        self._next_ns: float | None = None  # expected origin of the next block
        self._recent: list[int] = []  # origins of the last few accepted blocks (duplicate check)

    def push(self, origin: int, samples: NDArray[np.floating]) -> bool:
        """Append one block (a time-ordered run of samples starting at ``origin`` ns); False if it was dropped."""
        m = samples.shape[0]
        if m == 0:
            return False
        if self._next_ns is not None:
            delta = origin - self._next_ns
            if origin in self._recent:
                self.stats["duplicate"] += 1
                return False
            if origin <= self._recent[-1] or delta < -self.slack_ns:
                self.stats["out_of_order"] += 1
                return False
            if delta > self.slack_ns:
                self.stats["gap"] += 1
                self.fill = 0
        if self.fill == 0:
            self._start_ns = float(origin)
        need = self.fill + m
        if need > self._buf.shape[0]:
            grown = np.empty(max(need, 2 * self._buf.shape[0]), dtype=np.float64)
            grown[: self.fill] = self._buf[: self.fill]
            self._buf = grown
        self._buf[self.fill : need] = samples
        self.fill = need
        self._next_ns = origin + m * self.period_ns
        self._recent.append(origin)
        del self._recent[:-8]
        return True

    def windows(self) -> Iterator[tuple[int, NDArray[np.float64]]]:
        """Yield ``(start_ns, view)`` for each complete window; the view is valid until the next iteration."""
        while self.fill >= self.n:
            yield round(self._start_ns), self._buf[: self.n]
            rest = self.fill - self.hop
            self._buf[:rest] = self._buf[self.hop : self.fill]
            self.fill = rest
            self._start_ns += self.hop * self.period_ns
            self.stats["windows"] += 1

    def reset(self) -> None:
        """Drop the buffered samples and the timestamp history."""
        self.fill = 0
        self._next_ns = None
        self._recent.clear()


@dataclass(slots=True)
class ScalarWindow:
    """A closed multivariate window: ``samples[i]`` are the time-ordered values of ``resources[i]``."""

    start: int
    end: int
    resources: list[str]
    samples: list[NDArray[np.float64]]
    flags: list[str] = field(default_factory=list)


class _Series:
    """Buffered samples of one resource (slow signals: a few per second, so Python lists are fine)."""

    __slots__ = ("last_closed", "newest", "sorted", "times", "values")

    def __init__(self) -> None:
        self.newest = -1
        self.times: list[int] = []
        self.values: list[float] = []
        self.sorted = True
        self.last_closed: int | None = None  # origin of the last sample of the previous window

    def arrays(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        t = np.asarray(self.times, dtype=np.int64)
        v = np.asarray(self.values, dtype=np.float64)
        if not self.sorted:
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
            self.times, self.values, self.sorted = t.tolist(), v.tolist(), True
        return t, v

    def prune(self, before: int) -> None:
        t, _ = self.arrays()
        k = int(np.searchsorted(t, before, side="left"))
        if k:
            del self.times[:k], self.values[:k]


class ScalarWindower:
    """Multivariate windows over the slow resources of one device.

    ``basis`` time: windows ``[start, start + size)`` on a grid of ``hop`` ns aligned to the epoch.
    ``basis`` count: a window spans ``size`` samples of the ``clock`` resource (first resource if none) and
    every other resource's samples in that span; the next window starts ``hop`` clock samples later.
    """

    def __init__(
        self,
        *,
        basis: str,
        size: float,
        hop: float,
        lateness_ns: int,
        max_gap_ns: int,
        min_samples: int,
        resources: list[str] | None,
        clock: str | None,
        stats: Counter[str],
    ) -> None:
        self.basis = basis
        self.size = size  # ns (time) or samples (count)
        self.hop = hop
        self.lateness_ns = lateness_ns
        self.max_gap_ns = max_gap_ns
        self.min_samples = min_samples
        self.fixed = resources is not None
        self.clock = clock
        self.stats = stats
        self.series: dict[str, _Series] = {r: _Series() for r in resources or ()}
        self._start: int | None = None
        self._watermark = -1

    @property
    def resources(self) -> list[str]:
        """Resources in window order (configured order, else sorted by name)."""
        return list(self.series) if self.fixed else sorted(self.series)

    def push(self, resource: str, origin: int, value: float) -> list[ScalarWindow]:
        """Add one sample; returns the windows it closed (usually none)."""
        s = self.series.get(resource)
        if s is None:
            if self.fixed:
                return []
            s = self.series[resource] = _Series()
        if self._start is not None and origin < self._start:
            self.stats["late"] += 1
            return []
        if s.times and origin <= s.newest:
            if origin in s.times:
                self.stats["duplicate"] += 1
                return []
            s.sorted = False
            self.stats["reordered"] += 1
        else:
            s.newest = origin
        s.times.append(origin)
        s.values.append(value)
        if len(s.times) > MAX_BUFFERED:  # e.g. a count window whose clock resource went silent
            s.arrays()
            drop = len(s.times) - MAX_BUFFERED
            del s.times[:drop], s.values[:drop]
            self.stats["overflow"] += drop
        if self._start is None:
            self._start = self._first_start(origin)
        self._watermark = max(self._watermark, origin)
        return self._close_ready()

    def _first_start(self, origin: int) -> int:
        if self.basis == "time":
            return origin - origin % int(self.hop)
        return origin

    def _close_ready(self) -> list[ScalarWindow]:
        out: list[ScalarWindow] = []
        while self._start is not None:
            end = self._end()
            if end is None or self._watermark < end + self.lateness_ns:
                break
            win = self._cut(self._start, end)
            if win is not None:
                out.append(win)
            self._advance(end)
        return out

    def _end(self) -> int | None:
        assert self._start is not None
        if self.basis == "time":
            return self._start + int(self.size)
        clock = self.series.get(self.clock or self.resources[0])
        if clock is None:
            return None
        t, _ = clock.arrays()
        k = int(np.searchsorted(t, self._start, side="left")) + int(self.size)
        return int(t[k]) if k < t.shape[0] else None

    def _advance(self, end: int) -> None:
        assert self._start is not None
        if self.basis == "time":
            hop, size = int(self.hop), int(self.size)
            nxt = self._start + hop
            for s in self.series.values():
                s.prune(nxt)
            earliest = min((s.times[0] for s in self.series.values() if s.times), default=nxt)
            if earliest - nxt >= size:  # skip the empty windows of a long gap: first window holding `earliest`
                nxt += ((earliest - size - nxt) // hop + 1) * hop
        else:
            clock = self.series[self.clock or self.resources[0]]
            t, _ = clock.arrays()
            k = int(np.searchsorted(t, self._start, side="left")) + int(self.hop)
            nxt = int(t[k]) if k < t.shape[0] else end
        self._start = nxt
        for s in self.series.values():
            s.prune(nxt)

    def _cut(self, start: int, end: int) -> ScalarWindow | None:
        names = self.resources
        samples: list[NDArray[np.float64]] = []
        gap = False
        for r in names:
            s = self.series[r]
            t, v = s.arrays()
            a = int(np.searchsorted(t, start, side="left"))
            b = int(np.searchsorted(t, end, side="left"))
            if b - a < self.min_samples:
                self.stats["incomplete"] += 1
                return None
            tw = t[a:b]
            if b - a > 1 and int(np.diff(tw).max()) > self.max_gap_ns:
                gap = True
            if s.last_closed is not None and int(tw[0]) - s.last_closed > self.max_gap_ns:
                gap = True
            s.last_closed = int(tw[-1])
            samples.append(v[a:b])
        if gap:
            self.stats["gap"] += 1
        self.stats["windows"] += 1
        return ScalarWindow(start, end, names, samples, ["gap"] if gap else [])


def ns(ms: float) -> int:
    """Milliseconds to integer nanoseconds."""
    return math.floor(ms * 1e6)
