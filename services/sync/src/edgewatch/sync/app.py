"""Composition root of edgewatch-sync: build_app() wires bus, streams, sink, uplink, outboxes and routes."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.sync.api import sync_router
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.encoder import BatchEncoder
from edgewatch.sync.messaging import OutboxConnection
from edgewatch.sync.outbox import ClassOutbox
from edgewatch.sync.service import SyncService
from edgewatch.sync.sinks import make_sink
from edgewatch.sync.status import BacklogMonitor
from edgewatch.sync.streams import stream_name
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink
from edgewatch.syncwire.batch import DataClass

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-sync"


def build_app(settings: SyncSettings) -> ServiceHost:
    """Build the service host (not started): bus, class streams, outboxes, uplink, status route."""
    host = ServiceHost(SERVICE_NAME, settings)
    bus = host.bus
    streams = {cls: stream_name(settings, cls) for cls in DataClass}
    telemetry = SyncTelemetry(host.metrics, streams)
    sink = make_sink(settings, bus)
    uplink = Uplink(sink, settings.sync, telemetry)
    conn = OutboxConnection(settings.message_bus, f"{bus.client_name}-outbox")
    encoder = BatchEncoder(settings.sync.compression_level, settings.sync.pack_events)
    outboxes = {
        cls: ClassOutbox(cls, lambda: conn.nc, conn.jetstream, settings, uplink, telemetry, encoder)
        for cls in DataClass
    }
    monitor = BacklogMonitor(lambda: bus.nc, streams, telemetry)
    service = SyncService(
        settings,
        bus,
        telemetry=telemetry,
        sink=sink,
        uplink=uplink,
        conn=conn,
        encoder=encoder,
        outboxes=outboxes,
        monitor=monitor,
    )
    host.lifespan.add("sync", service.start, service.stop)
    host.health_checks["uplinkUp"] = lambda: uplink.up
    app = host.new_app("edgewatch sync", settings.service.port)
    app.include_router(sync_router(service))
    return host
