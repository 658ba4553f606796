"""Composition root of edgewatch-sync: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.sync.api import sync_router
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.service import SyncService

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-sync"


def build_app(settings: SyncSettings) -> ServiceHost:
    """Build the service host (not started): bus, class streams, outboxes, uplink, status route."""
    host = ServiceHost(SERVICE_NAME, settings)
    app = host.new_app("edgewatch sync", settings.service.port)
    service = SyncService(settings, host.bus, host.metrics)
    host.lifespan.add("sync", service.start, service.stop)
    host.health_checks["uplinkUp"] = lambda: service.uplink.up
    app.include_router(sync_router(service))
    return host
