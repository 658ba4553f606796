"""SyncService: the running part of sync: class streams provisioned, one outbox per class, the backlog monitor."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.bus.client import NatsBus
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.encoder import BatchEncoder
from edgewatch.sync.messaging import OutboxConnection
from edgewatch.sync.outbox import ClassOutbox
from edgewatch.sync.sinks.base import Sink
from edgewatch.sync.status import BacklogMonitor
from edgewatch.sync.streams import ensure_streams
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink
from edgewatch.syncwire.batch import DataClass

__all__ = ["SyncService"]

log = logging.getLogger(__name__)


class SyncService:
    """Runs what ``app.build_app`` wired: provisions the class streams, then the outboxes and the backlog monitor."""

    def __init__(
        self,
        settings: SyncSettings,
        bus: NatsBus,
        *,
        telemetry: SyncTelemetry,
        sink: Sink,
        uplink: Uplink,
        conn: OutboxConnection,
        encoder: BatchEncoder,
        outboxes: dict[DataClass, ClassOutbox],
        monitor: BacklogMonitor,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.telemetry = telemetry
        self.sink = sink
        self.uplink = uplink
        self.conn = conn
        self.encoder = encoder
        self.outboxes = outboxes
        self.monitor = monitor
        self._tasks: list[asyncio.Task[None]] = []

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
        for outbox in self.outboxes.values():
            outbox.stop()
        await cancel_and_wait(self._tasks)  # re-cancels: a bus reply landing with the cancel can swallow one
        self._tasks.clear()
        self.encoder.close()
        await self.sink.close()
        await self.conn.close()

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
