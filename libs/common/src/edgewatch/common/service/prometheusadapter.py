"""The one place prometheus_client internals are used, checked at import against the pinned prometheus-client.

A bus counter is bumped once per message. ``Counter.inc`` re-checks the metric and handles exemplars on every
call; a labelled child's value object (``child._value``, private) adds without those checks, at a fraction of
the cost. The pin lives in ``libs/common/pyproject.toml``; if an upgrade drops the hook, importing this module
fails with a message naming the version and the attribute (no silent fallback to the slow path).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version

from prometheus_client import CollectorRegistry, Counter

__all__ = ["PINNED_VERSION", "check_hooks", "fast_increment"]

PINNED_VERSION = "0.26.0"
"""The prometheus-client version these hooks are written and tested against (the pyproject pin)."""


def check_hooks(counter_cls: type[Counter] = Counter) -> None:
    """Verify that a counter of ``counter_cls`` carries the private value object :func:`fast_increment` uses.

    Raises:
        ImportError: the hook is missing; the message names the installed version and the attribute.
    """
    probe = counter_cls("edgewatch_hook_probe", "import-time check of prometheus_client", registry=CollectorRegistry())
    inc = getattr(getattr(probe, "_value", None), "inc", None)
    if not callable(inc):
        raise ImportError(
            f"prometheus-client {version('prometheus-client')} (edgewatch is pinned to {PINNED_VERSION}): "
            f"{counter_cls.__name__} instances have no callable _value.inc, which "
            "edgewatch.common.service.prometheusadapter.fast_increment calls"
        )


def fast_increment(child: Counter) -> Callable[[float], None]:
    """``inc(amount)`` of one counter child (no labels left to choose), without per-call checks or exemplars."""
    inc: Callable[[float], None] = child._value.inc
    return inc


check_hooks()
