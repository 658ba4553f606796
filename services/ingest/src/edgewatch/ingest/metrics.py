"""Prometheus metrics of the ingest service (on the host's per-service registry)."""

from __future__ import annotations

from edgewatch.common.service.metrics import ServiceMetrics

__all__ = ["IngestMetrics"]


class IngestMetrics:
    """Counters for readings, events, device I/O errors by kind, commands, and the operating-state gauge."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.events = metrics.counter("edgewatch_ingest_events", "EdgeX events published", ("device",))
        self.readings = metrics.counter("edgewatch_ingest_readings", "Readings published", ("device",))
        self.device_errors = metrics.counter(
            "edgewatch_ingest_device_errors",
            "Device I/O errors (DeviceTimeoutError, DeviceConnectError, ModbusExceptionError, ...)",
            ("device", "kind"),
        )
        self.commands = metrics.counter("edgewatch_ingest_commands", "Device commands served", ("method", "status"))
        self.read_publish = metrics.hop("ingest_read_publish")
        self.device_command = metrics.hop("device_command")
        self.device_up = metrics.gauge(
            "edgewatch_ingest_device_up", "1 while a device is UP, 0 while DOWN", ("device",)
        )

    def event(self, device: str, readings: int, *, events: int = 1) -> None:
        """Count published events (one by default) and their readings."""
        self.events.labels(device).inc(events)
        self.readings.labels(device).inc(readings)

    def error(self, device: str, kind: str) -> None:
        """Count one device error."""
        self.device_errors.labels(device, kind).inc()
