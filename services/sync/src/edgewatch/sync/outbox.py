"""One class's outbox: pull from its JetStream stream, batch, upload through the uplink, ack after the cloud.

Per class there is exactly one batch in flight. After the cloud's ack the batch's last message is acked (the
consumer is ack-all, so that one ack covers the batch) with the server's confirmation, and the stream is then
purged up to it. The stream therefore drains strictly in order and a message leaves the local buffer only after
the cloud acknowledged it. A crash between the cloud's ack and ours re-sends the batch; the cloud deduplicates
it by key. A gap in the delivered stream sequence is filled from the stream: messages still stored (e.g. a
delivery lost in a reconnect) are read by sequence and uploaded in their place, the others are gone (evicted by
the full-buffer policy) and counted as drops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from edgewatch.sync.config import SyncSettings
from edgewatch.sync.encoder import BatchEncoder
from edgewatch.sync.messaging import Puller
from edgewatch.sync.record import ack_position, stored_to_record, to_record
from edgewatch.sync.sinks.base import BatchRefusedError, BatchTooLargeError
from edgewatch.sync.streams import consumer_name, ensure_class_stream, purge_through, recreate_consumer, stream_name
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink, backoff_delay
from edgewatch.syncwire.batch import BatchHeader, DataClass, RecordRow, encode_rows, is_packed

__all__ = ["ClassOutbox"]

log = logging.getLogger(__name__)

_FETCH_WAIT = 1.0
_PACK_PAUSE = 900.0  # seconds of unpacked event batches after a receiver refused a pack; then packs are tried again
_CHECK_EVERY = 3  # idle fetches between checks that the stream and consumer still exist
_Prepared = tuple[list[Msg], list[RecordRow], BatchHeader, "asyncio.Task[bytes]"]


class ClassOutbox:
    """Drains one class stream to the cloud: a preparer (pull, batch, encode) feeds one in-flight uploader."""

    def __init__(
        self,
        cls: DataClass,
        nc: Callable[[], Client],
        js: Callable[[], JetStreamContext],
        settings: SyncSettings,
        uplink: Uplink,
        telemetry: SyncTelemetry,
        encoder: BatchEncoder | None = None,
    ) -> None:
        self.cls = cls
        self._nc = nc
        self._js = js
        self.settings = settings
        self.uplink = uplink
        self.telemetry = telemetry
        self.encoder = encoder or BatchEncoder(settings.sync.compression_level, settings.sync.pack_events)
        self.stream = stream_name(settings, cls)
        self.incarnation = self.stream
        self._puller: Puller | None = None
        self._expected = 1
        self._carry: list[Msg] = []
        self._stopping = False

    def stop(self) -> None:
        """Make :meth:`run` end at its next turn; the caller cancels its task too.

        Cancelling alone is not enough: a child of run's TaskGroup that fails while the task is being cancelled
        (the POST or an ack cut short) makes the group raise that error instead of ``CancelledError`` (CPython
        gh-95704), run's ``except*`` takes it for a bus error, and the outbox would upload on while stop() waits
        for it (a CI run saw sync keep posting after a test's end, and the test time out). On CPython 3.11 the
        task's ``cancelling()`` cannot tell either: the group leaves its own cancel request counted after a
        child's error."""
        self._stopping = True

    async def open(self) -> None:
        """(Re)create the consumer at the unacked head and subscribe a fresh puller."""
        js = self._js()
        info = await ensure_class_stream(js, self.settings, self.cls)
        # Keys carry the stream's creation time: a recreated (wiped) stream restarts at sequence 1, and its
        # messages must not be taken by the cloud for duplicates of the old stream's.
        created = int(info.created.timestamp() * 1_000_000) if info.created else 0
        self.incarnation = f"{self.stream}@{created}"
        floor = await recreate_consumer(js, self.settings, self.cls)
        self.telemetry.resume(self.cls, floor)
        self._expected = floor + 1
        self._carry = []
        if self._puller is not None:
            await self._puller.stop()
        self._puller = Puller(self._nc(), self.stream, consumer_name(self.settings, self.cls))
        await self._puller.start()

    async def run(self) -> None:
        """Upload until :meth:`stop`; bus errors reopen the consumer after a backoff (unacked messages are re-sent)."""
        attempt = 0
        while not self._stopping:
            try:
                if self._puller is None:
                    await self.open()
                queue: asyncio.Queue[_Prepared] = asyncio.Queue(maxsize=1)
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._prepare(queue))
                    tg.create_task(self._send(queue))
            except* (BatchTooLargeError, BatchRefusedError) as eg:
                # One message over the sink's size limit, or a plain batch the sink cannot read: nothing is
                # dropped; the batch is retried from the stream after RetryMax, loudly.
                log.error("the sink refuses a batch; retrying", extra={"error": str(eg.exceptions[0])[:300]})
                await self._reset(self.settings.sync.retry_max)
            except* (nats.errors.Error, APIError, OSError) as eg:
                err = repr(eg.exceptions[0])[:300]
                log.warning("outbox bus error; reopening", extra={"class": self.cls.value, "error": err})
                await self._reset(backoff_delay(attempt, 0.2, 5.0))
                attempt += 1
            except* Exception as eg:
                # Never let the outbox die silently: log, reopen (unacked messages come back), carry on.
                log.error("outbox failed; reopening", exc_info=eg.exceptions[0], extra={"class": self.cls.value})
                await self._reset(backoff_delay(attempt, 0.5, 10.0))
                attempt += 1

    async def _reset(self, delay: float) -> None:
        if self._puller is not None:
            await self._puller.stop()
        self._puller = None
        if not self._stopping:
            await asyncio.sleep(delay)

    async def _prepare(self, queue: asyncio.Queue[_Prepared]) -> None:
        pending: asyncio.Task[bytes] | None = None
        try:
            while True:
                msgs = await self._next_batch()
                records = await self._records(msgs)
                if records:
                    # Encoded while the previous batch is on the wire (the event codec in a worker process), and
                    # while this preparer already pulls the next batch; the sender awaits the bodies in order.
                    header = self._header(records)
                    pending = asyncio.create_task(self.encoder.encode(header, records))
                    await queue.put((msgs, records, header, pending))
                    pending = None
        finally:
            if pending is not None:
                pending.cancel()
            while not queue.empty():
                queue.get_nowait()[3].cancel()

    async def _send(self, queue: asyncio.Queue[_Prepared]) -> None:
        confirm: asyncio.Task[bool] | None = None
        try:
            while True:
                msgs, records, header, encoding = await queue.get()
                await self._deliver(records, header, await encoding)
                # The previous batch's acks ran while this batch was on the wire (off the critical path); they
                # are confirmed before this batch's start, so acks stay in stream order. An unconfirmed ack only
                # risks a re-send, which the cloud deduplicates.
                if confirm is not None and not await confirm:
                    raise nats.errors.TimeoutError
                confirm = asyncio.create_task(self._ack_batch(msgs))
        finally:
            if confirm is not None and not confirm.done():
                confirm.cancel()

    async def _next_batch(self) -> list[Msg]:
        """Up to BatchMaxMsgs / BatchMaxBytes, waiting at most BatchLinger for it to fill once started."""
        assert self._puller is not None
        s = self.settings.sync
        msgs = self._carry
        self._carry = []
        idle = 0
        while not msgs:
            msgs = await self._puller.fetch(s.batch_max_msgs, _FETCH_WAIT, s.batch_linger)
            idle = 0 if msgs else idle + 1
            if idle % _CHECK_EVERY == _CHECK_EVERY - 1:
                # An idle puller cannot tell "nothing to send" from "stream or consumer deleted": ask.
                await self._js().consumer_info(self.stream, consumer_name(self.settings, self.cls))
        return self._cut(msgs)

    def _cut(self, msgs: list[Msg]) -> list[Msg]:
        """Keep the prefix within the byte budget (at least one message); carry the rest to the next batch."""
        budget, size = self.settings.sync.batch_max_bytes, 0
        for i, m in enumerate(msgs):
            size += len(m.data)
            if size > budget and i > 0:
                self._carry = msgs[i:]
                return msgs[:i]
        return msgs

    async def _records(self, msgs: list[Msg]) -> list[RecordRow]:
        """Records of new messages in stream order; fills gaps from the stream and skips redeliveries."""
        gateway, by_id = self.settings.sync.gateway_id, self.settings.sync.dedup_on_msg_id
        out = []
        for m in msgs:
            r = to_record(self.cls, m, gateway, msg_id_key=by_id)
            if r.stream_seq < self._expected:
                continue  # a redelivery of a message already batched: the ack of a later one covers it
            if r.stream_seq > self._expected:
                out += await self._fill_gap(self._expected, r.stream_seq)
            self._expected = r.stream_seq + 1
            out.append(r)
        return out

    async def _fill_gap(self, first: int, end: int) -> list[RecordRow]:
        """Sequences [first, end) were not delivered: the records of those still stored, the rest counted as drops.

        A gap is normally the full-buffer policy evicting the oldest messages (gone: one lookup finds nothing).
        A message can also still be stored, e.g. when its delivery was lost in a reconnect; it is read by
        sequence and uploaded in order, since the ack of a later message would otherwise cover it unsent.
        """
        gateway, by_id = self.settings.sync.gateway_id, self.settings.sync.dedup_on_msg_id
        found: list[RecordRow] = []
        seq = first
        while seq < end:
            try:
                raw = await self._js().get_msg(self.stream, seq, subject=">", next=True)
            except NotFoundError:
                break
            if raw.seq is None or raw.seq >= end:
                break
            found.append(stored_to_record(self.cls, raw, gateway, msg_id_key=by_id))
            seq = raw.seq + 1
        dropped = (end - first) - len(found)
        if dropped > 0:
            self.telemetry.drop(self.cls, dropped)
            log.warning("buffer policy dropped messages", extra={"class": self.cls.value, "count": dropped})
        if found:
            log.info("gap filled from the stream", extra={"class": self.cls.value, "count": len(found)})
        return found

    def _header(self, records: list[RecordRow]) -> BatchHeader:
        s = self.settings.sync
        return BatchHeader(
            batch_id=f"{s.gateway_id}/{self.incarnation}/{records[0].stream_seq}-{records[-1].stream_seq}",
            gateway=s.gateway_id,
            data_class=self.cls,
            stream=self.incarnation,
        )

    async def _deliver(self, records: list[RecordRow], header: BatchHeader | None = None, body: bytes = b"") -> None:
        if header is None:
            header = self._header(records)
            body = encode_rows(
                header, records, self.settings.sync.compression_level, pack=self.encoder.packing(self.cls)
            )
        try:
            ack = await self.uplink.deliver(header, records, body)
        except BatchTooLargeError:
            if len(records) == 1:
                raise
            half = len(records) // 2
            await self._deliver(records[:half])
            await self._deliver(records[half:])
            return
        except BatchRefusedError as e:
            if not is_packed(body):
                raise  # our plain encoding refused: the outbox logs, backs off and retries (nothing is dropped)
            log.warning(
                "the receiver refused a packed event batch (older than the packed format?): sending unpacked",
                extra={"class": self.cls.value, "error": str(e)[:300], "pauseSeconds": _PACK_PAUSE},
            )
            self.encoder.pause_packing(_PACK_PAUSE)
            body = encode_rows(header, records, self.settings.sync.compression_level, pack=False)
            await self._deliver(records, header, body)
            return
        raw = sum(len(r.payload) for r in records)
        self.telemetry.exported(self.cls, records[-1].stream_seq, ack.accepted, ack.duplicates, raw, len(body))

    async def _ack_batch(self, msgs: list[Msg]) -> bool:
        """Ack the batch (its last message: ack-all) and purge it from the stream; False when not confirmed."""
        last = msgs[-1]
        if not await self._ack(last):
            return False
        now_ns, observe = time.time_ns(), self.telemetry.store_ack
        for m in msgs:  # stored (the server's timestamp in the ack subject) -> the batch's ack confirmed
            observe(max(0, now_ns - ack_position(m.reply)[1]) / 1e9)
        try:
            await purge_through(self._js(), self.stream, ack_position(last.reply)[0])
        except (nats.errors.Error, APIError, TimeoutError) as e:
            # Harmless: the next batch's purge (or the next reopen) removes these messages too.
            log.debug("purge failed", extra={"class": self.cls.value, "error": repr(e)[:200]})
        return True

    async def _ack(self, last: Msg) -> bool:
        """The batch's ack, confirmed by the server; False when it cannot be confirmed (reopen)."""
        for attempt in range(6):
            try:
                await last.ack_sync(timeout=2.0)
                return True
            except (nats.errors.Error, TimeoutError):
                await asyncio.sleep(backoff_delay(attempt, 0.1, 2.0))
        log.warning("ack not confirmed; the batch will be re-sent and deduplicated by the cloud")
        return False
