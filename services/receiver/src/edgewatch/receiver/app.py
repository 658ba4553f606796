"""Composition root of edgewatch-receiver: store, intake, live hub and routes (the only wiring)."""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import ServiceHost
from edgewatch.common.service.http import API_PREFIX
from edgewatch.common.service.lifespan import Lifespan
from edgewatch.common.service.limits import route_limit
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.receiver.api import sync_router
from edgewatch.receiver.config import ReceiverSettings
from edgewatch.receiver.live import LiveHub
from edgewatch.receiver.messaging import Intake
from edgewatch.receiver.queries import class_router, edgex_event_router
from edgewatch.receiver.retention import RetentionSweeper
from edgewatch.receiver.sqlite import SqliteStore
from edgewatch.syncwire.batch import DataClass

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-receiver"


def build_app(settings: ReceiverSettings) -> ServiceHost:
    """Build the receiver host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    # A cloud service: it does not join the edge bus (no bus step, no busConnected health fact).
    host.lifespan = Lifespan()
    host.health_checks.pop("busConnected", None)
    r = settings.receiver
    db = Path(r.db_path) if r.db_path else settings.data_path("receiver") / "receiver.db"
    store = SqliteStore(db, r.synchronous)
    hub = LiveHub()
    workers = ParseWorkers(lambda: settings.service, host.metrics, preload=("edgewatch.syncwire.batch",))
    intake = Intake(store, hub, r, host.metrics, workers)
    host.lifespan.add("store", store.open, store.close)
    host.lifespan.add("parse-workers", _nothing, workers.close)
    sweeper = RetentionSweeper(store, r, host.metrics)
    host.lifespan.add("retention", sweeper.start, sweeper.stop)
    app = host.new_app("edgewatch receiver", settings.service.port)
    mx = settings.service.max_result_count
    app.include_router(sync_router(intake, store, hub, mx, r.stream_keepalive))
    # the batch body is refused before it is read when over MaxBatchBytes (it is zstd, no JSON depth to check)
    route_limit(app, f"{API_PREFIX}/sync/batch", lambda: r.max_batch_bytes, "Receiver.MaxBatchBytes", json_depth=False)
    app.include_router(edgex_event_router(store, mx))
    for cls in (DataClass.SCORE, DataClass.FEATURE, DataClass.ALERT):
        app.include_router(class_router(store, cls, mx))
    return host


async def _nothing() -> None:
    """A lifespan step with nothing to start (parse workers start on first use)."""
