"""Events kept in a bounded JetStream stream (limits by age and bytes) with an in-memory index for queries.

Every stored event is one message on ``edgewatch.core.events.<device-token>`` (token: base64url of the device
name, so any EdgeX name fits a subject token) with ``Nats-Msg-Id`` = event id (JetStream de-duplicates). An
ordered consumer replays the stream at start and follows it, so the index also sees other core replicas' writes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
import time
from typing import Any

from nats.js import api
from nats.js.errors import NotFoundError as JsNotFoundError

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import EdgeXError, ErrorKind
from edgewatch.common.contracts.event import AddEventRequest, Event
from edgewatch.common.contracts.eventcodec import decode_add_event
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.core.buserrors import unavailable_on_bus_errors
from edgewatch.core.config import EventRetention
from edgewatch.core.data.batcher import EventBatcher
from edgewatch.core.data.index import EventIndex, IndexEntry

__all__ = ["EventStore", "device_subject"]

log = logging.getLogger(__name__)


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=") or "_"


@functools.lru_cache(maxsize=4096)
def device_subject(device: str) -> str:
    """Stream subject of one device's events (cached: every stored event needs it)."""
    return topics.suite("core", "events", _token(device))


ALL_SUBJECT = topics.suite("core", "events") + ".>"


class EventStore:
    """Append, query, delete; the stream's limits bound what is kept (oldest dropped first)."""

    def __init__(self, bus: NatsBus, metrics: ServiceMetrics, retention: EventRetention) -> None:
        self.bus = bus
        self.retention = retention
        self.index = EventIndex()
        self._sub: Any = None
        self._loaded = asyncio.Event()
        self._target = 0
        self._trimmer: asyncio.Task[None] | None = None
        self.failed = metrics.counter("core_data_store_failures_total", "bus events that could not be stored")
        self.stored = metrics.counter("core_data_events_stored_total", "events written to the event stream")
        self.batcher = EventBatcher(
            bus,
            self.index,
            device_subject,
            self._write_one,
            self.stored.inc,
            self.failed.inc,
            max_events=retention.batch_max_events,
            window=retention.batch_window,
        )

    @property
    def stream(self) -> str:
        """Stream name."""
        return self.retention.stream

    async def start(self) -> None:
        """Ensure the stream (idempotent; limits updated), replay it into the index and follow it."""
        js = self.bus.js
        cfg = api.StreamConfig(
            name=self.stream,
            subjects=[ALL_SUBJECT],
            retention=api.RetentionPolicy.LIMITS,
            discard=api.DiscardPolicy.OLD,
            max_age=self.retention.max_age,
            max_bytes=self.retention.max_bytes,
            max_msgs=self.retention.max_events or -1,
            storage=api.StorageType.FILE,
            duplicate_window=min(120.0, self.retention.max_age),
            allow_atomic=True,
        )
        try:
            await js.stream_info(self.stream)
            info = await js.update_stream(cfg)
        except JsNotFoundError:
            info = await js.add_stream(cfg)
        self.batcher.atomic = bool(info.config.allow_atomic)
        if not self.batcher.atomic:
            log.warning("the event stream refuses atomic batches (nats-server < 2.12?): events stored one by one")
        self._target = info.state.last_seq
        self._sub = await js.subscribe(
            ALL_SUBJECT,
            stream=self.stream,
            cb=self._on_msg,
            ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.ALL,
        )
        if info.state.messages == 0:
            self._loaded.set()
        await asyncio.wait_for(self._loaded.wait(), 60)
        self._trimmer = asyncio.create_task(self._trim_every(self.retention.index_sync_interval))

    async def _trim_every(self, interval: float) -> None:
        """Forget what the stream's limits removed every ``interval`` seconds, queried or not: the index held every
        event ever stored until a query trimmed it (a soak at 200 events/s grew core-data by about 9 MB a minute)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sync_retention()
            except Exception as e:  # the bus is away, say: next time
                log.debug("retention sync failed", extra={"error": repr(e)[:300]})

    async def stop(self) -> None:
        """Finish pending writes, then stop following the stream."""
        await cancel_and_wait([self._trimmer])
        await self.batcher.close(10)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    @property
    def loaded(self) -> bool:
        """True once the stream's content at start is indexed."""
        return self._loaded.is_set()

    async def _on_msg(self, msg: Any) -> None:
        seq = msg.metadata.sequence.stream
        if seq in self.index.by_seq:  # written by this replica: already indexed when the ack came back
            if seq >= self._target or msg.metadata.num_pending == 0:
                self._loaded.set()
            return
        headers = msg.headers
        mine = self.batcher.pending.get(headers.get("Nats-Msg-Id", "")) if headers else None
        if mine is not None:  # this replica's batch, echoed before its ack: indexed from the event in hand
            self.index.add(IndexEntry.of(seq, mine))
        else:
            try:
                req = decode_add_event(msg.data)
                self.index.add(IndexEntry.of(seq, req.event))
            except EdgeXError:
                log.error("unreadable event at stream sequence %d skipped", seq)
        if seq >= self._target or msg.metadata.num_pending == 0:
            self._loaded.set()

    async def append(self, event: Event, body: bytes | None = None) -> None:
        """Store one event (a duplicate id inside the stream's duplicate window is dropped by JetStream)."""
        if body is None:
            body = AddEventRequest.of(event, request_id="").to_json()
        with unavailable_on_bus_errors(f"storing event {event.id}"):
            ack = await self.bus.js.publish(device_subject(event.device_name), body, headers={"Nats-Msg-Id": event.id})
        if not ack.duplicate:
            self.index.add(IndexEntry.of(ack.seq, event))
            self.stored.inc()

    async def submit(self, event: Event, body: bytes | None = None) -> None:
        """Store a bus event in the next atomic batch without waiting for its ack (batcher.py; waits only when
        ``MAX_BATCHES`` batches are in flight). It is indexed, so queryable, once its batch is acknowledged."""
        if body is None:
            body = AddEventRequest.of(event, request_id="").to_json()
        await self.batcher.add(event, body)

    async def _write_one(self, event: Event, body: bytes) -> None:
        await self.append(event, body)

    async def load(self, entries: list[IndexEntry]) -> list[tuple[IndexEntry, Event]]:
        """The events of ``entries`` (entries that retention removed meanwhile are skipped)."""
        out: list[tuple[IndexEntry, Event]] = []
        gone: list[int] = []
        for e in entries:
            try:
                with unavailable_on_bus_errors("reading events"):
                    raw = await self.bus.js.get_msg(self.stream, e.seq, direct=False)
            except JsNotFoundError:
                gone.append(e.seq)
                continue
            if raw.data is None:
                gone.append(e.seq)
                continue
            out.append((e, decode_add_event(raw.data).event))
        self.index.remove(gone)
        return out

    async def sync_retention(self) -> None:
        """Forget index entries that the stream's age/bytes limits removed."""
        with unavailable_on_bus_errors("reading the event stream"):
            info = await self.bus.js.stream_info(self.stream)
        self.index.drop_below(info.state.first_seq)

    async def delete_ids(self, seqs: list[int]) -> None:
        """Delete single events."""
        for s in seqs:
            with unavailable_on_bus_errors("deleting events"), contextlib.suppress(JsNotFoundError):
                await self.bus.js.delete_msg(self.stream, s)
        self.index.remove(seqs)

    async def delete_device(self, device: str) -> int:
        """Purge every event of a device (one purge by subject filter)."""
        seqs = [e.seq for e in self.index if e.device == device]
        with unavailable_on_bus_errors(f"deleting events of {device!r}"):
            await self.bus.js.purge_stream(self.stream, subject=device_subject(device))
        self.index.remove(seqs)
        return len(seqs)

    async def delete_older_than(self, age_ns: int) -> int:
        """Delete events whose origin is older than ``now - age``.

        When those events are a prefix of the stream (the usual case: events arrive roughly in origin order) one
        purge up to the first kept sequence removes them; otherwise each is deleted by sequence.
        """
        if age_ns < 0:
            raise EdgeXError(f"age {age_ns} must be >= 0", kind=ErrorKind.CONTRACT_INVALID, field="age")
        cutoff = time.time_ns() - age_ns
        old = sorted(e.seq for e in self.index if e.origin < cutoff)
        if not old:
            return 0
        kept = [e.seq for e in self.index if e.origin >= cutoff]
        if not kept or max(old) < min(kept):
            with unavailable_on_bus_errors("deleting old events"):
                await self.bus.js.purge_stream(self.stream, seq=max(old) + 1)
            self.index.remove(old)
        else:
            await self.delete_ids(old)
        return len(old)
