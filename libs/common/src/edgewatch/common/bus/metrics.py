"""What the bus counts, as a protocol the service layer implements (``service.metrics.ServiceMetrics``).

The bus sits below the service layer and never imports it: NatsBus and DurablePullConsumer report through a
:class:`BusMetrics` handed to them. Hot paths fetch an :data:`Increment` once (per subscription, per publish
kind) and call it for every message, so no label lookup happens per message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

__all__ = ["BusMetrics", "Increment", "LastHandled", "Observe"]

Increment = Callable[[float], None]
"""Adds its argument to one counter (one label set)."""

Observe = Callable[[float], None]
"""Records one duration in seconds in one histogram (one label set), e.g. a hop of ``ServiceMetrics.hop``."""


LastHandled = Callable[[], Iterable[tuple[str, float]]]
"""Yields ``(subscription subject, Unix time)``: when each subscription last finished handling a message."""


class BusMetrics(Protocol):
    """The bus's own counters and gauges."""

    def in_counter(self, subject: str) -> Increment:
        """The increment of messages received on ``subject`` (a subscription pattern, so the label is bounded)."""
        ...

    def out_counter(self, kind: str) -> Increment:
        """The increment of messages published under ``kind`` (a producer name or an explicit kind)."""
        ...

    def count_dead_letter(self, reason: str) -> None:
        """Count one dead-lettered message; ``reason`` is its kind (``decode``, ``handler``, ...)."""
        ...

    def count_limit_refusal(self, limit: str) -> None:
        """Count one input refused by a limit (size, depth, budget); ``limit`` names it."""
        ...

    def set_connected(self, connected: bool) -> None:
        """Record whether the connection to NATS is up."""
        ...

    def count_reconnect(self) -> None:
        """Count one reconnection to NATS."""
        ...

    def count_dropped(self, subject: str) -> None:
        """Count one message the client dropped because a subscription's pending limit was full (slow consumer)."""
        ...

    def track_last_handled(self, read: LastHandled) -> None:
        """Expose, whenever the metrics are read, what ``read`` yields then (a connection's subscriptions' times of
        their last message handled; read at scrape time, so the hot path only stores a float)."""
        ...
