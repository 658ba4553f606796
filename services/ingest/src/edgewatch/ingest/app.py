"""Composition root of edgewatch-ingest: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.ingest.config import IngestSettings

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-ingest"


def build_app(settings: IngestSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    host.new_app("edgewatch ingest", settings.service.port)
    return host
