"""Composition root of edgewatch-features: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.features.api import features_router
from edgewatch.features.config import FeaturesSettings
from edgewatch.features.messaging import EventConsumer, StatsCollector
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.store import ConfigStore

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-features"


def build_app(settings: FeaturesSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    rel = settings.features.config_store
    path = settings.data_path(*rel.split("/")[:-1]) / rel.split("/")[-1] if rel else None
    store = ConfigStore(path)
    pipeline = FeaturePipeline(store)
    consumer = EventConsumer(
        host.bus, pipeline, lambda: settings.service.max_document_depth, host.metrics.hop("features_window_vector")
    )
    host.metrics.registry.register(StatsCollector(lambda: list(pipeline.stats.items())))
    host.lifespan.add("events", consumer.start, consumer.stop)
    app = host.new_app("edgewatch features", settings.service.port)
    app.include_router(features_router(store, pipeline))
    return host
