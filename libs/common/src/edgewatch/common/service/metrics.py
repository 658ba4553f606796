"""Prometheus metrics of one service, on a registry of its own (several services may share a process).

:class:`ServiceMetrics` is also what the bus reports through: it implements ``bus.metrics.BusMetrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from edgewatch.common.bus.metrics import Increment
from edgewatch.common.service.prometheusadapter import fast_increment

__all__ = ["ServiceMetrics"]


class ServiceMetrics:
    """The counters every service has, plus a registry services add their own metrics to (a ``BusMetrics``)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.messages_in = Counter(
            "edgewatch_bus_messages_in", "Bus messages received", ["subject"], registry=self.registry
        )
        self.messages_out = Counter(
            "edgewatch_bus_messages_out", "Bus messages published", ["kind"], registry=self.registry
        )
        self.dead_letters = Counter(
            "edgewatch_bus_dead_letters",
            "Malformed or failed bus messages dead-lettered",
            ["reason"],
            registry=self.registry,
        )
        self.bus_connected = Gauge("edgewatch_bus_connected", "1 while connected to NATS", registry=self.registry)
        self.bus_reconnects = Counter("edgewatch_bus_reconnects", "NATS reconnections", registry=self.registry)
        self.http_errors = Counter("edgewatch_http_errors", "REST error responses", ["status"], registry=self.registry)
        self.limit_refusals = Counter(
            "edgewatch_limit_refusals",
            "Inputs refused by a limit (size, depth, budget)",
            ["limit"],
            registry=self.registry,
        )

    def in_counter(self, subject: str) -> Increment:
        """``BusMetrics``: the increment of ``edgewatch_bus_messages_in{subject}``."""
        return fast_increment(self.messages_in.labels(subject))

    def out_counter(self, kind: str) -> Increment:
        """``BusMetrics``: the increment of ``edgewatch_bus_messages_out{kind}``."""
        return fast_increment(self.messages_out.labels(kind))

    def count_dead_letter(self, reason: str) -> None:
        """``BusMetrics``: one more ``edgewatch_bus_dead_letters{reason}``."""
        self.dead_letters.labels(reason).inc()

    def count_limit_refusal(self, limit: str) -> None:
        """``BusMetrics``: one more ``edgewatch_limit_refusals{limit}``."""
        self.limit_refusals.labels(limit).inc()

    def set_connected(self, connected: bool) -> None:
        """``BusMetrics``: ``edgewatch_bus_connected`` to 1 or 0."""
        self.bus_connected.set(1 if connected else 0)

    def count_reconnect(self) -> None:
        """``BusMetrics``: one more ``edgewatch_bus_reconnects``."""
        self.bus_reconnects.inc()

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        """Register a service-specific counter."""
        return Counter(name, doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        """Register a service-specific gauge."""
        return Gauge(name, doc, list(labels), registry=self.registry)

    def render(self) -> bytes:
        """Prometheus text exposition."""
        return generate_latest(self.registry)
