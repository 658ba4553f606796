"""Incoming messages of edgewatch-receiver: the sync batches that edge gateways POST to ``/api/v3/sync/batch``.

The receiver does not join the edge bus; its messages arrive over HTTP. :class:`Intake` validates a batch,
decodes it (event packs stay packed), stores it durably (dedup by key) and answers only after the commit.
"""

from __future__ import annotations

import time

import zstandard

from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError, ErrorKind
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.receiver.config import ReceiverSection
from edgewatch.receiver.live import LiveHub
from edgewatch.receiver.store import RecordStore
from edgewatch.syncwire.batch import BATCH_ENCODING, BatchAck, BatchDecodeError, decode_batch_packed

__all__ = ["Intake"]


class Intake:
    """The receiver's write path."""

    def __init__(self, store: RecordStore, hub: LiveHub, settings: ReceiverSection, metrics: ServiceMetrics) -> None:
        self.store = store
        self.hub = hub
        self.settings = settings
        self.accepted = metrics.counter("edgewatch_receiver_accepted_records", "Records stored", ("class",))
        self.duplicates = metrics.counter("edgewatch_receiver_duplicate_records", "Records already stored", ("class",))
        self.batches = metrics.counter("edgewatch_receiver_batches", "Batches committed", ("class",))

    async def accept(self, body: bytes, encoding: str, idempotency_key: str) -> BatchAck:
        """Decode and store one uploaded batch.

        Raises:
            EdgeXError: 413 too large; ContractInvalidError (400) bad encoding, body or idempotency key.
        """
        s = self.settings
        if len(body) > s.max_batch_bytes:
            raise EdgeXError(f"body: {len(body)} bytes exceeds {s.max_batch_bytes}", kind=ErrorKind.LIMIT_EXCEEDED)
        if encoding.strip().lower() != BATCH_ENCODING:
            raise ContractInvalidError(f"Content-Encoding: must be {BATCH_ENCODING!r}", field="Content-Encoding")
        try:
            size = zstandard.frame_content_size(body)
        except zstandard.ZstdError as e:
            raise ContractInvalidError(f"body: not a zstd frame ({e})", field="body") from e
        if size > s.max_decoded_bytes:
            raise EdgeXError(
                f"body: decodes to {size} bytes, over {s.max_decoded_bytes}", kind=ErrorKind.LIMIT_EXCEEDED
            )
        try:
            batch, records, packed = decode_batch_packed(body, s.max_decoded_bytes)
        except BatchDecodeError as e:
            raise ContractInvalidError(str(e), field="body") from e
        if idempotency_key and idempotency_key != batch.batch_id:
            raise ContractInvalidError("Idempotency-Key: does not match the batch id", field="Idempotency-Key")
        ack = await self.store.ingest(batch, records, time.time_ns(), packed)
        c = batch.data_class.value
        self.accepted.labels(c).inc(ack.accepted)
        self.duplicates.labels(c).inc(ack.duplicates)
        self.batches.labels(c).inc()
        if ack.accepted:
            await self.hub.notify()
        return ack
