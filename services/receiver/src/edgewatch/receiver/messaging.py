"""Incoming messages of edgewatch-receiver: the sync batches that edge gateways POST to ``/api/v3/sync/batch``.

The receiver does not join the edge bus; its messages arrive over HTTP. :class:`Intake` validates a batch,
decodes it (event packs stay packed), stores it durably (dedup by key) and answers only after the commit.
A batch is decoded on the event loop only when it is small both ways (64 KiB compressed, a declared 1 MiB
decoded); any other goes to a parse worker, where a zstd bomb costs at most ``MaxDecodedBytes`` of the worker's
memory and the decode at most ``Service.ParseTimeout``.
"""

from __future__ import annotations

import time

import zstandard

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.limits import SizeLimitError
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.worker import INLINE_BYTES, ParseWorkers
from edgewatch.receiver.config import ReceiverSection
from edgewatch.receiver.live import LiveHub
from edgewatch.receiver.store import RecordStore
from edgewatch.syncwire.batch import (
    BATCH_ENCODING,
    BatchAck,
    BatchDecodeError,
    BatchHeader,
    BatchTooLargeError,
    PackedEvents,
    RecordRow,
    decode_batch_packed,
)

__all__ = ["Intake"]

_INLINE_DECODED = 1 << 20


class Intake:
    """The receiver's write path."""

    def __init__(
        self,
        store: RecordStore,
        hub: LiveHub,
        settings: ReceiverSection,
        metrics: ServiceMetrics,
        workers: ParseWorkers,
    ) -> None:
        self.store = store
        self.workers = workers
        self.hub = hub
        self.settings = settings
        self.accepted = metrics.counter("edgewatch_receiver_accepted_records", "Records stored", ("class",))
        self.duplicates = metrics.counter("edgewatch_receiver_duplicate_records", "Records already stored", ("class",))
        self.batches = metrics.counter("edgewatch_receiver_batches", "Batches committed", ("class",))

    async def _decode(self, body: bytes, declared: int) -> tuple[BatchHeader, list[RecordRow], PackedEvents | None]:
        limit = self.settings.max_decoded_bytes
        if len(body) <= INLINE_BYTES and 0 <= declared <= _INLINE_DECODED:
            return decode_batch_packed(body, limit)
        return await self.workers.run(decode_batch_packed, body, limit, what="batch")

    async def accept(self, body: bytes, encoding: str, idempotency_key: str) -> BatchAck:
        """Decode and store one uploaded batch.

        Raises:
            SizeLimitError: 413 too large, compressed or decoded, or past the parse worker's budget.
            ContractInvalidError: 400 bad encoding, body or idempotency key.
        """
        s = self.settings
        if len(body) > s.max_batch_bytes:
            raise SizeLimitError(
                f"body: {len(body)} bytes exceeds Receiver.MaxBatchBytes ({s.max_batch_bytes})", limit="MaxBatchBytes"
            )
        if encoding.strip().lower() != BATCH_ENCODING:
            raise ContractInvalidError(f"Content-Encoding: must be {BATCH_ENCODING!r}", field="Content-Encoding")
        try:
            size = zstandard.frame_content_size(body)
        except zstandard.ZstdError as e:
            raise ContractInvalidError(f"body: not a zstd frame ({e})", field="body") from e
        try:
            batch, records, packed = await self._decode(body, size)
        except BatchTooLargeError as e:
            raise SizeLimitError(f"{e} (Receiver.MaxDecodedBytes)", limit="MaxDecodedBytes") from None
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
