"""Read a service's ``/metrics`` text: counter sums and hop histograms, and quantiles from histogram buckets.

``edgewatch status`` and ``bench/e2e.py`` read the same series: ``edgewatch_hop_seconds{hop}`` (see
``edgewatch.common.service.metrics.HOPS``) and the bus counters. Only the lines needed are parsed (regular
expressions over the exposition text), so a scrape of a busy service costs little.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["HopHistogram", "counter_sum", "hop_histograms", "last_handled", "quantile"]

_BUCKET = re.compile(r'^edgewatch_hop_seconds_bucket\{hop="([^"]+)",le="([^"]+)"\} ([0-9.eE+-]+)$', re.M)
_SUM = re.compile(r'^edgewatch_hop_seconds_sum\{hop="([^"]+)"\} ([0-9.eE+-]+)$', re.M)
_LAST = re.compile(r'^edgewatch_bus_last_handled_timestamp_seconds\{subject="([^"]+)"\} ([0-9.eE+-]+)$', re.M)


@dataclass
class HopHistogram:
    """One hop's cumulative buckets (upper bound -> count, ``inf`` last) and sum, as scraped."""

    buckets: list[tuple[float, float]] = field(default_factory=list)
    total: float = 0.0

    @property
    def count(self) -> float:
        """Observations so far (the +Inf bucket)."""
        return self.buckets[-1][1] if self.buckets else 0.0

    def minus(self, earlier: HopHistogram | None) -> HopHistogram:
        """The observations made since ``earlier`` (a previous scrape of the same process)."""
        if earlier is None or not earlier.buckets:
            return self
        before = dict(earlier.buckets)
        if self.count < earlier.count:  # the service restarted: its counters began again
            return self
        return HopHistogram([(le, n - before.get(le, 0.0)) for le, n in self.buckets], self.total - earlier.total)

    def quantile(self, q: float) -> float | None:
        """See :func:`quantile`."""
        return quantile(self.buckets, q)


def hop_histograms(text: str) -> dict[str, HopHistogram]:
    """Every ``edgewatch_hop_seconds`` histogram in a ``/metrics`` text, by hop name."""
    out: dict[str, HopHistogram] = defaultdict(HopHistogram)
    for hop, le, n in _BUCKET.findall(text):
        out[hop].buckets.append((math.inf if le == "+Inf" else float(le), float(n)))
    for hop, total in _SUM.findall(text):
        out[hop].total = float(total)
    for h in out.values():
        h.buckets.sort()
    return dict(out)


def counter_sum(text: str, name: str) -> float:
    """The sum of every sample of counter ``name`` (``<name>_total``, any labels)."""
    rx = re.compile(rf"^{re.escape(name)}_total(?:\{{[^}}]*\}})? ([0-9.eE+-]+)$", re.M)
    return sum(float(v) for v in rx.findall(text))


def last_handled(text: str) -> dict[str, float]:
    """``edgewatch_bus_last_handled_timestamp_seconds`` by subscription subject: the Unix time each subscription
    last finished handling a message (absent until its first)."""
    return {subject: float(t) for subject, t in _LAST.findall(text)}


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """The ``q`` quantile (0..1) of cumulative ``(upper bound, count)`` buckets, interpolated linearly inside the
    bucket it falls in (as Prometheus' ``histogram_quantile``); None without observations. A quantile in the
    +Inf bucket is reported as the highest finite bound (the histogram cannot say more)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, n in buckets:
        if n >= rank:
            if math.isinf(le):
                return lower
            inside = n - below
            return lower + (le - lower) * ((rank - below) / inside if inside > 0 else 1.0)
        lower, below = le, n
    return lower
