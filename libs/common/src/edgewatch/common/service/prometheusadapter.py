"""The one place prometheus_client internals are used, checked at import against the pinned prometheus-client.

A bus counter is bumped once per message. ``Counter.inc`` re-checks the metric and handles exemplars on every
call; a labelled child's value object (``child._value``, private) adds without those checks, at a fraction of
the cost. A hop histogram is observed once per message too: ``Histogram.observe`` walks its bounds one by one
and checks exemplars; :func:`fast_observe` bisects the child's bounds (``_upper_bounds``) and bumps its bucket
and sum value objects (``_buckets``, ``_sum``), which is what ``observe`` itself ends up doing. The pin lives in
``libs/common/pyproject.toml``; if an upgrade drops a hook, importing this module fails with a message naming the
version and the attribute (no silent fallback to the slow path).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from importlib.metadata import version

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["PINNED_VERSION", "check_hooks", "fast_increment", "fast_observe"]

PINNED_VERSION = "0.26.0"
"""The prometheus-client version these hooks are written and tested against (the pyproject pin)."""


def check_hooks(counter_cls: type[Counter] = Counter, histogram_cls: type[Histogram] = Histogram) -> None:
    """Verify that a counter of ``counter_cls`` carries the private value object :func:`fast_increment` uses, and
    a histogram of ``histogram_cls`` the bounds and value objects :func:`fast_observe` uses.

    Raises:
        ImportError: a hook is missing; the message names the installed version and the attribute.
    """
    probe = counter_cls("edgewatch_hook_probe", "import-time check of prometheus_client", registry=CollectorRegistry())
    inc = getattr(getattr(probe, "_value", None), "inc", None)
    if not callable(inc):
        raise _missing(counter_cls, "callable _value.inc", "fast_increment")
    hist = histogram_cls("edgewatch_hook_probe", "import-time check", buckets=(1.0,), registry=CollectorRegistry())
    bounds = getattr(hist, "_upper_bounds", None)
    buckets = getattr(hist, "_buckets", None)
    total = getattr(getattr(hist, "_sum", None), "inc", None)
    if not isinstance(bounds, list) or bounds[-1] != float("inf"):
        raise _missing(histogram_cls, "_upper_bounds (a list ending in +Inf)", "fast_observe")
    if not isinstance(buckets, list) or len(buckets) != len(bounds) or not callable(getattr(buckets[0], "inc", None)):
        raise _missing(histogram_cls, "_buckets (one value object with inc per bound)", "fast_observe")
    if not callable(total):
        raise _missing(histogram_cls, "_sum.inc", "fast_observe")


def _missing(cls: type, attribute: str, user: str) -> ImportError:
    return ImportError(
        f"prometheus-client {version('prometheus-client')} (edgewatch is pinned to {PINNED_VERSION}): "
        f"{cls.__name__} instances have no {attribute}, which "
        f"edgewatch.common.service.prometheusadapter.{user} uses"
    )


def fast_increment(child: Counter) -> Callable[[float], None]:
    """``inc(amount)`` of one counter child (no labels left to choose), without per-call checks or exemplars."""
    inc: Callable[[float], None] = child._value.inc
    return inc


def fast_observe(child: Histogram) -> Callable[[float], None]:
    """``observe(seconds)`` of one histogram child (no labels left to choose), without per-call checks or exemplars.

    Buckets are kept per bound (not cumulative) inside prometheus_client; ``observe`` bumps the first bound
    ``>= amount``, which is what ``bisect_left`` finds.
    """
    bounds: list[float] = list(child._upper_bounds)
    buckets = [b.inc for b in child._buckets]
    add_sum = child._sum.inc

    def observe(amount: float) -> None:
        add_sum(amount)
        buckets[bisect_left(bounds, amount)](1)

    return observe


check_hooks()
