"""Composition root of edgewatch-inference: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.inference.config import InferenceSettings

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-inference"


def build_app(settings: InferenceSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    host.new_app("edgewatch inference", settings.service.port)
    return host
