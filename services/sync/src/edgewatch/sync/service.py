"""SyncService: provisions the class streams and runs one outbox per class, the uplink and the backlog monitor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nats.js import JetStreamContext

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.encoder import BatchEncoder
from edgewatch.sync.messaging import OutboxConnection
from edgewatch.sync.outbox import ClassOutbox
from edgewatch.sync.sinks.base import Sink
from edgewatch.sync.sinks.leafnode import LeafnodeSink
from edgewatch.sync.sinks.mqtt import MqttSink
from edgewatch.sync.sinks.receiver import ReceiverSink
from edgewatch.sync.status import BacklogMonitor
from edgewatch.sync.streams import ensure_streams, stream_name
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink
from edgewatch.syncwire.batch import DataClass

__all__ = ["SyncService", "make_sink"]

log = logging.getLogger(__name__)


def make_sink(settings: SyncSettings, bus: NatsBus) -> Sink:
    """The configured sink (Sink.Kind)."""
    if settings.sink.kind == "nats":
        return LeafnodeSink(settings.sink, lambda: bus.nc)
    if settings.sink.kind == "mqtt":
        return MqttSink(settings.sink, settings.sync.gateway_id)
    return ReceiverSink(settings.sink)


class SyncService:
    """Everything edgewatch-sync runs besides the REST app."""

    def __init__(self, settings: SyncSettings, bus: NatsBus, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.bus = bus
        self.streams = {cls: stream_name(settings, cls) for cls in DataClass}
        self.telemetry = SyncTelemetry(metrics, self.streams)
        self.sink = make_sink(settings, bus)
        self.uplink = Uplink(self.sink, settings.sync, self.telemetry)
        self.conn = OutboxConnection(settings.message_bus, f"{bus.client_name}-outbox")
        self.encoder = BatchEncoder(settings.sync.compression_level, settings.sync.pack_events)
        self.outboxes = {
            cls: ClassOutbox(
                cls, lambda: self.conn.nc, lambda: self._js(), settings, self.uplink, self.telemetry, self.encoder
            )
            for cls in DataClass
        }
        self.monitor = BacklogMonitor(lambda: bus.nc, self.streams, self.telemetry)
        self._tasks: list[asyncio.Task[None]] = []
        self._jsctx: JetStreamContext | None = None

    def _js(self) -> JetStreamContext:
        if self._jsctx is None:
            self._jsctx = self.conn.nc.jetstream()
        return self._jsctx

    async def start(self) -> None:
        """Create/update the streams, open the sink and start the outboxes."""
        await ensure_streams(self.bus.js, self.settings)
        await self.conn.open()
        await self.sink.start()
        for cls, outbox in self.outboxes.items():
            await outbox.open()
            self._tasks.append(asyncio.create_task(outbox.run(), name=f"outbox-{cls.value}"))
        self._tasks.append(asyncio.create_task(self.monitor.run(self.settings.sync.status_interval), name="backlog"))
        log.info("sync started", extra={"sink": self.sink.name, "gateway": self.settings.sync.gateway_id})

    async def stop(self) -> None:
        """Stop uploading (unacked batches stay in JetStream) and close the sink."""
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        self.encoder.close()
        await self.sink.close()
        await self.conn.close()
        self._jsctx = None

    def status(self) -> dict[str, Any]:
        """The "caught up?" view per class plus uplink state."""
        classes = {}
        for cls, p in self.telemetry.progress.items():
            classes[cls.value] = {
                "stream": p.stream,
                "newestSeq": p.newest_seq,
                "lastExportedSeq": p.last_exported_seq,
                "backlogMessages": p.backlog_messages,
                "backlogBytes": p.backlog_bytes,
                "oldestAgeSeconds": round(p.oldest_age_s, 3),
                "uploadedMessages": p.uploaded_messages,
                "droppedMessages": p.dropped_messages,
                "caughtUp": p.caught_up,
            }
        return {
            "gatewayId": self.settings.sync.gateway_id,
            "sink": self.sink.name,
            "uplinkUp": self.uplink.up,
            "classes": classes,
        }
