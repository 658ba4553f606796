"""Composition root of edgewatch-inference: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from edgewatch.common.service.host import ServiceHost
from edgewatch.common.service.http import API_PREFIX
from edgewatch.common.service.limits import KB, route_limit
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.inference.api import router, threshold_router
from edgewatch.inference.config import InferenceSettings
from edgewatch.inference.engine import InferenceEngine
from edgewatch.inference.messaging import ScoreMessaging
from edgewatch.inference.models import ModelRegistry
from edgewatch.inference.shadowapi import shadow_router

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-inference"


def build_app(settings: InferenceSettings) -> ServiceHost:
    """Build the service host (not started): registry -> engine -> bus subscription -> REST."""
    host = ServiceHost(SERVICE_NAME, settings)
    registry = ModelRegistry(settings.data_path("models"))
    cfg = settings.inference
    trt_cache = str(Path(os.path.expanduser(settings.data_dir)) / "trt-cache")  # ORT creates it when TensorRT runs
    engine = InferenceEngine(
        registry, cfg, host.metrics, lambda: settings.writable.thresholds, cfg.provider_config(trt_cache)
    )
    messaging = ScoreMessaging(host.bus, host.metrics, engine, cfg.max_batch, cfg.batch_deadline_ms / 1000)
    host.lifespan.add("models", _sync(engine.restore))
    host.lifespan.add("subscriptions", messaging.start, messaging.stop)
    host.health_checks["modelsServing"] = lambda: len([c for c, _ in engine.slots().values() if c is not None])
    workers = ParseWorkers(
        lambda: settings.service, host.metrics, preload=("edgewatch.inference.api", "edgewatch.inference.modelcheck")
    )
    host.lifespan.add("parse-workers", _sync(lambda: None), workers.close)
    app = host.new_app("edgewatch inference", settings.service.port)
    app.include_router(router(engine, workers, lambda: settings.service))
    # the base64 model (4/3 of its bytes) plus its metadata, which is held to Service.MaxRequestSize
    model_body = lambda: settings.inference.max_model_size * KB * 4 // 3 + settings.service.max_request_size * KB  # noqa: E731
    route_limit(app, f"{API_PREFIX}/model", model_body, "Inference.MaxModelSize", json_depth=False, exact=True)
    app.include_router(threshold_router(engine))
    app.include_router(shadow_router(engine))
    return host


def _sync(fn: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        fn()

    return step
