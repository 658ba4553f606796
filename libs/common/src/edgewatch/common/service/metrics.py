"""Prometheus metrics of one service, on a registry of its own (several services may share a process).

:class:`ServiceMetrics` is also what the bus reports through: it implements ``bus.metrics.BusMetrics``.

Hops: every service times the steps a message takes through it in one histogram,
``edgewatch_hop_seconds{hop}``, one label value per hop (``HOPS`` lists them, so ``edgewatch status`` and the
benches read the same names). A hot path fetches the hop's :data:`Observe` once and calls it per message.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgewatch.common.bus.metrics import Increment, LastHandled, Observe
from edgewatch.common.service.prometheusadapter import fast_increment, fast_observe

__all__ = ["HOPS", "HOP_BUCKETS", "HOP_METRIC", "LAST_HANDLED_METRIC", "ServiceMetrics"]

HOP_METRIC = "edgewatch_hop_seconds"
LAST_HANDLED_METRIC = "edgewatch_bus_last_handled_timestamp_seconds"
# 50 us .. 30 s: sub-millisecond hops and multi-second sync acks on one scale (p99 interpolates between bounds)
HOP_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
HOPS: dict[str, str] = {
    "ingest_read_publish": "ingest: device read started -> its EdgeX event published",
    "features_window_vector": "features: event that closes a window received -> FeatureVector published",
    "inference_vector_score": "inference: FeatureVector received -> Score published (micro-batch wait included)",
    "rules_sample_decision": "rules: sample message received -> the engine's decision handed to the actuator",
    "rules_decision_command": "rules: decision -> the answer to its first command (retries included)",
    "rules_decision_send": "rules: decision -> its first command handed to the bus client (checks, envelope)",
    "rules_command_answer": "rules, direct route: SET sent to the device service -> its answer",
    "command_forward_answer": "core-command: request received -> the device service's answer relayed",
    "device_command": "device service (ingest): command request received -> answered",
    "sync_store_ack": "sync: record stored in its buffer -> the cloud's ack of its batch confirmed",
}
"""Every hop name with what it measures (one ``hop`` label value each)."""


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
        self.bus_dropped = Counter(
            "edgewatch_bus_dropped_messages",
            "Bus messages dropped by the client: a subscription's pending limit was full (slow consumer)",
            ["subject"],
            registry=self.registry,
        )
        self.http_errors = Counter("edgewatch_http_errors", "REST error responses", ["status"], registry=self.registry)
        self.limit_refusals = Counter(
            "edgewatch_limit_refusals",
            "Inputs refused by a limit (size, depth, budget)",
            ["limit"],
            registry=self.registry,
        )
        self._hops: Histogram | None = None
        self._last_handled: list[LastHandled] = []

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

    def count_dropped(self, subject: str) -> None:
        """``BusMetrics``: one more ``edgewatch_bus_dropped_messages{subject}`` (the subscription's pattern)."""
        self.bus_dropped.labels(subject).inc()

    def track_last_handled(self, read: LastHandled) -> None:
        """``BusMetrics``: ``edgewatch_bus_last_handled_timestamp_seconds{subject}``, the Unix time each subscription
        last finished handling a message (a stalled source shows as a growing ``time() - this``), from every
        connection that reports here (the latest time per subject)."""
        if not self._last_handled:
            self.registry.register(_LastHandledCollector(self._last_handled))
        self._last_handled.append(read)

    def hop(self, name: str) -> Observe:
        """The observer of ``edgewatch_hop_seconds{hop=name}`` (seconds); ``name`` is one of :data:`HOPS`.

        Raises:
            KeyError: an unknown hop name (the label set stays the documented one).
        """
        if name not in HOPS:
            raise KeyError(f"unknown hop {name!r} (known: {', '.join(HOPS)})")
        if self._hops is None:
            self._hops = Histogram(
                HOP_METRIC,
                "Time a message spends in one hop of the pipeline (hop label: see edgewatch.common.service.metrics)",
                ["hop"],
                buckets=HOP_BUCKETS,
                registry=self.registry,
            )
        return fast_observe(self._hops.labels(name))

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        """Register a service-specific counter."""
        return Counter(name, doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        """Register a service-specific gauge."""
        return Gauge(name, doc, list(labels), registry=self.registry)

    def render(self) -> bytes:
        """Prometheus text exposition."""
        return generate_latest(self.registry)


class _LastHandledCollector(Collector):
    def __init__(self, reads: list[LastHandled]) -> None:
        self.reads = reads

    def collect(self) -> Iterator[Metric]:
        latest: dict[str, float] = {}
        for read in self.reads:
            for subject, t in list(read()):
                latest[subject] = max(t, latest.get(subject, t))
        fam = GaugeMetricFamily(
            LAST_HANDLED_METRIC,
            "Unix time a subscription last finished handling a message (time() minus this: how stale it is)",
            labels=["subject"],
        )
        for subject, t in sorted(latest.items()):
            fam.add_metric([subject], t)
        yield fam
