"""One class's outbox: pull from its JetStream stream, batch, upload through the uplink, ack after the cloud.

Per class there is exactly one batch in flight; after the cloud's ack every message of the batch is acked in
order and the last ack is confirmed by the server (a double ack: acks on one connection are processed in
order, so its reply confirms them all). The stream therefore drains strictly in order and a message leaves the
local buffer only after the cloud acknowledged it. A crash between the cloud's ack and ours re-sends the batch;
the cloud deduplicates it by key. Gaps in the delivered stream sequence are messages the full-buffer policy evicted:
they are counted as drops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import APIError

from edgewatch.common.contracts.sync import DataClass, SyncBatch, SyncRecord, encode_batch
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.record import to_record
from edgewatch.sync.sinks.base import BatchTooLargeError
from edgewatch.sync.streams import consumer_name, recreate_consumer, stream_name
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink, backoff_delay

__all__ = ["ClassOutbox"]

log = logging.getLogger(__name__)

_FETCH_WAIT = 1.0


class ClassOutbox:
    """Drains one class stream to the cloud."""

    def __init__(
        self,
        cls: DataClass,
        js: Callable[[], JetStreamContext],
        settings: SyncSettings,
        uplink: Uplink,
        telemetry: SyncTelemetry,
    ) -> None:
        self.cls = cls
        self._js = js
        self.settings = settings
        self.uplink = uplink
        self.telemetry = telemetry
        self.stream = stream_name(settings, cls)
        self._sub: JetStreamContext.PullSubscription | None = None
        self._expected = 1
        self._carry: list[Msg] = []

    async def open(self) -> None:
        """(Re)create the consumer at the unacked head and bind a pull subscription."""
        js = self._js()
        floor = await recreate_consumer(js, self.settings, self.cls)
        self._expected = floor + 1
        self._carry = []
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:
                log.debug("old pull subscription already gone")
        self._sub = await js.pull_subscribe_bind(
            durable=consumer_name(self.settings, self.cls),
            stream=self.stream,
            pending_msgs_limit=4 * self.settings.sync.batch_max_msgs + 16,
        )

    async def run(self) -> None:
        """Upload forever; bus errors reopen the consumer after a backoff."""
        attempt = 0
        while True:
            try:
                if self._sub is None:
                    await self.open()
                msgs = await self._next_batch()
                if msgs:
                    await self._upload(msgs)
                attempt = 0
            except asyncio.CancelledError:
                raise
            except BatchTooLargeError as e:
                log.error("a single message exceeds the sink's size limit; retrying", extra={"error": str(e)})
                self._sub = None
                await asyncio.sleep(self.settings.sync.retry_max)
            except (nats.errors.Error, APIError, OSError) as e:
                log.warning("outbox bus error; reopening", extra={"class": self.cls.value, "error": repr(e)[:300]})
                self._sub = None
                await asyncio.sleep(backoff_delay(attempt, 0.2, 5.0))
                attempt += 1

    async def _fetch(self, n: int, timeout: float) -> list[Msg]:
        assert self._sub is not None
        try:
            return await self._sub.fetch(batch=n, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []

    async def _next_batch(self) -> list[Msg]:
        """Up to BatchMaxMsgs / BatchMaxBytes, waiting at most BatchLinger for it to fill once started."""
        s = self.settings.sync
        msgs = self._carry
        self._carry = []
        if not msgs:
            msgs = await self._fetch(s.batch_max_msgs, _FETCH_WAIT)
        deadline = time.monotonic() + s.batch_linger
        size = sum(len(m.data) for m in msgs)
        while msgs and len(msgs) < s.batch_max_msgs and size < s.batch_max_bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = await self._fetch(s.batch_max_msgs - len(msgs), left)
            if not more:
                break
            msgs.extend(more)
            size += sum(len(m.data) for m in more)
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

    def _records(self, msgs: list[Msg]) -> list[SyncRecord]:
        gateway = self.settings.sync.gateway_id
        records = [to_record(self.cls, m, gateway) for m in msgs]
        for r in records:
            if r.stream_seq > self._expected:
                gap = r.stream_seq - self._expected
                self.telemetry.drop(self.cls, gap)
                log.warning("buffer policy dropped messages", extra={"class": self.cls.value, "count": gap})
            self._expected = max(self._expected, r.stream_seq + 1)
        return records

    async def _upload(self, msgs: list[Msg]) -> None:
        records = self._records(msgs)
        await self._deliver(records)
        for m in msgs[:-1]:
            await m.ack()
        await self._ack(msgs[-1])

    async def _deliver(self, records: list[SyncRecord]) -> None:
        s = self.settings.sync
        batch = SyncBatch(
            batch_id=f"{s.gateway_id}/{self.stream}/{records[0].stream_seq}-{records[-1].stream_seq}",
            gateway=s.gateway_id,
            cls=self.cls,
            stream=self.stream,
            records=records,
        )
        body = encode_batch(batch, s.compression_level)
        try:
            ack = await self.uplink.deliver(self.cls, batch, body)
        except BatchTooLargeError:
            if len(records) == 1:
                raise
            half = len(records) // 2
            await self._deliver(records[:half])
            await self._deliver(records[half:])
            return
        raw = sum(len(r.payload) for r in records)
        self.telemetry.exported(self.cls, records[-1].stream_seq, ack.accepted, ack.duplicates, raw, len(body))

    async def _ack(self, last: Msg) -> None:
        """The batch's last ack, confirmed by the server; retried until the server answers (e.g. after a restart)."""
        attempt = 0
        while True:
            try:
                await last.ack_sync(timeout=2.0)
                return
            except (nats.errors.Error, TimeoutError) as e:
                if attempt >= 5:
                    # The cloud has the batch; a redelivery is deduplicated there. Reopen to resynchronise.
                    log.warning("ack not confirmed; the batch will be re-sent", extra={"error": repr(e)[:200]})
                    self._sub = None
                    return
                await asyncio.sleep(backoff_delay(attempt, 0.1, 2.0))
                attempt += 1
