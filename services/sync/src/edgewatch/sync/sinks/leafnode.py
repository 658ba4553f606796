"""NATS-to-NATS sink: publish each record into a cloud JetStream stream, deduplicated by Nats-Msg-Id.

The NATS-native path: the edge nats-server holds a leafnode connection to the cloud's, and this sink publishes
through the local bus with the cloud's JetStream domain (or connects to remote servers directly). Every record
carries its idempotency key as ``Nats-Msg-Id``, so a re-sent batch is stored once within the cloud stream's
duplicate window (Sink.NatsDuplicateWindow); the batch counts as delivered when every PubAck arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NotFoundError

from edgewatch.sync.config import SinkSection
from edgewatch.sync.sinks.base import SinkError
from edgewatch.syncwire.batch import DEVICE_HEADER, MSG_ID_HEADER, SEQ_HEADER, BatchAck, BatchHeader, RecordRow

__all__ = ["LeafnodeSink", "cloud_subject"]

log = logging.getLogger(__name__)

_BAD = str.maketrans({".": "_", "*": "_", ">": "_", " ": "_", "\t": "_", "\r": "_", "\n": "_"})


def cloud_subject(prefix: str, header: BatchHeader, device: str) -> str:
    """``<prefix>.<class>.<device>`` (the device token made subject-safe)."""
    return f"{prefix}.{header.data_class.value}.{device.translate(_BAD) or '_'}"


class LeafnodeSink:
    """Publishes batches into a remote JetStream stream."""

    name = "nats"

    def __init__(self, settings: SinkSection, local: Callable[[], Client]) -> None:
        self.settings = settings
        self._local = local
        self._own: Client | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False

    async def start(self) -> None:
        s = self.settings
        if s.nats_servers:
            self._own = await nats.connect(
                servers=s.nats_servers, max_reconnect_attempts=-1, reconnect_time_wait=0.5, name="edgewatch-sync"
            )

    async def close(self) -> None:
        if self._own is not None:
            await self._own.close()
            self._own = None

    def _context(self) -> JetStreamContext:
        if self._js is None:
            nc = self._own or self._local()
            self._js = nc.jetstream(domain=self.settings.nats_domain or None, timeout=self.settings.timeout)
        return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        if self._stream_ready:
            return
        s = self.settings
        try:
            await js.stream_info(s.nats_stream)
        except NotFoundError:
            await js.add_stream(
                api.StreamConfig(
                    name=s.nats_stream,
                    subjects=[f"{s.nats_subject_prefix}.>"],
                    storage=api.StorageType.FILE,
                    duplicate_window=s.nats_duplicate_window,
                )
            )
            log.info("created cloud stream", extra={"stream": s.nats_stream})
        self._stream_ready = True

    async def send(self, header: BatchHeader, records: list[RecordRow], body: bytes) -> BatchAck:
        js = self._context()
        s = self.settings
        try:
            await self._ensure_stream(js)
            futures = []
            for r in records:
                headers = {
                    MSG_ID_HEADER: r.resolved_key(header.gateway, header.stream),
                    SEQ_HEADER: str(r.seq),
                    DEVICE_HEADER: r.device,
                    "Edgewatch-Subject": r.subject,
                    "Edgewatch-Gateway": header.gateway,
                    "Edgewatch-Ts": str(r.ts_ns),
                }
                if r.content_type:
                    headers["Content-Type"] = r.content_type
                subject = cloud_subject(s.nats_subject_prefix, header, r.device)
                futures.append(await js.publish_async(subject, r.payload, headers=headers, wait_stall=s.timeout))
            acks = await asyncio.wait_for(asyncio.gather(*futures), s.timeout)
        except (APIError, nats.errors.Error, TimeoutError) as e:
            self._stream_ready = False
            raise SinkError(f"cloud JetStream: {type(e).__name__}: {e}") from e
        dups = sum(1 for a in acks if a.duplicate)
        return BatchAck(batch_id=header.batch_id, accepted=len(acks) - dups, duplicates=dups)
