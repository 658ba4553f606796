"""Composition root of edgewatch-rules: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.rules.config import RulesSettings

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-rules"


def build_app(settings: RulesSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    host.new_app("edgewatch rules", settings.service.port)
    return host
