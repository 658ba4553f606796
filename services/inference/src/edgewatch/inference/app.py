"""Composition root of edgewatch-inference: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from edgewatch.common.service.host import ServiceHost
from edgewatch.inference.api import router, threshold_router
from edgewatch.inference.config import InferenceSettings
from edgewatch.inference.engine import InferenceEngine
from edgewatch.inference.messaging import ScoreMessaging
from edgewatch.inference.models import ModelRegistry

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-inference"


def build_app(settings: InferenceSettings) -> ServiceHost:
    """Build the service host (not started): registry -> engine -> bus subscription -> REST."""
    host = ServiceHost(SERVICE_NAME, settings)
    registry = ModelRegistry(settings.data_path("models"))
    engine = InferenceEngine(registry, settings.inference, host.metrics, lambda: settings.writable.thresholds)
    messaging = ScoreMessaging(host.bus, host.metrics, engine)
    host.lifespan.add("models", _sync(engine.restore))
    host.lifespan.add("subscriptions", messaging.start, messaging.stop)
    host.health_checks["modelsServing"] = lambda: len([c for c, _ in engine.slots().values() if c is not None])
    app = host.new_app("edgewatch inference", settings.service.port)
    app.include_router(router(engine))
    app.include_router(threshold_router(engine))
    return host


def _sync(fn: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        fn()

    return step
