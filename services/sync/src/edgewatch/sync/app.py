"""Composition root of edgewatch-sync: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.sync.config import SyncSettings

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-sync"


def build_app(settings: SyncSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    host.new_app("edgewatch sync", settings.service.port)
    return host
