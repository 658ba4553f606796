"""Composition root of edgewatch-features: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.features.config import FeaturesSettings

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-features"


def build_app(settings: FeaturesSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    host.new_app("edgewatch features", settings.service.port)
    return host
