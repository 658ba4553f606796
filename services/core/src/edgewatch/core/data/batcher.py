"""Bus events stored in JetStream atomic batches: one acknowledgement per batch instead of one per event.

A bus event joins the open batch; the batch is written when it holds ``Core.Retention.BatchMaxEvents`` events or
``Core.Retention.BatchWindow`` seconds after its first event, whichever comes first (so a bus event becomes
queryable at most about one window plus one round trip after it arrived). The batch is published as a JetStream
atomic batch (ADR-50, nats-server >= 2.12): each event is still one stream message with ``Nats-Msg-Id`` = event id,
the server stores all of them or none, at consecutive sequences, and answers only the commit (its ack holds the
last sequence and the count). The events are indexed once that ack is back.

A batch the server refuses (an event id it already holds: JetStream refuses a whole atomic batch with a duplicate
id), or whose ack does not come (bus away, timeout: it may or may not be stored), is written again one event at a
time with the same ids, so JetStream's de-duplication keeps each event once; an event that cannot be stored then
is counted (``core_data_store_failures_total``) and logged, as before. At most ``MAX_BATCHES`` batches are in
flight; the next one waits (back-pressure: the subscription falls behind and catches up, nothing is dropped here).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts.event import Event
from edgewatch.core.data.index import EventIndex, IndexEntry

__all__ = ["MAX_BATCHES", "EventBatcher"]

log = logging.getLogger(__name__)

MAX_BATCHES = 4  # batches awaiting their ack at once (the server allows 50 open atomic batches per stream)
ACK_TIMEOUT = 5.0  # seconds; the server abandons a batch left without its commit after 10 s

# device name -> the subject its events are stored on
Subject = Callable[[str], str]
# one event written on its own (raises when it cannot be stored)
WriteOne = Callable[[Event, bytes], Awaitable[None]]


class BatchRefusedError(Exception):
    """The server did not store the batch (its ack says why)."""


class EventBatcher:
    """Collects bus events and writes them as atomic batches; ``pending`` maps the ids not yet indexed to events."""

    def __init__(
        self,
        bus: NatsBus,
        index: EventIndex,
        subject: Subject,
        write_one: WriteOne,
        on_stored: Callable[[int], None],
        on_failed: Callable[[], None],
        *,
        max_events: int,
        window: float,
    ) -> None:
        self.bus = bus
        self.index = index
        self.subject = subject
        self.write_one = write_one
        self.on_stored = on_stored
        self.on_failed = on_failed
        self.max_events = max(1, min(max_events, 1000))  # the server's limit of one atomic batch
        self.window = window
        self.atomic = True  # False when the stream does not allow atomic batches: events are written one by one
        self.pending: dict[str, Event] = {}
        self._open: list[tuple[Event, bytes]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._slots = asyncio.Semaphore(MAX_BATCHES)
        self._tasks: set[asyncio.Task[Any]] = set()
        # a batch id only has to be unique among the stream's open batches; it is stored in each event's headers,
        # so it is short: this process's random prefix and a counter
        self._ids = (f"{os.urandom(4).hex()}{n:x}" for n in itertools.count())

    async def add(self, event: Event, body: bytes) -> None:
        """Add a bus event to the open batch; waits only when ``MAX_BATCHES`` batches are already in flight."""
        self._open.append((event, body))
        self.pending[event.id] = event
        if len(self._open) >= self.max_events:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window, self._on_window)

    def _on_window(self) -> None:
        self._timer = None
        self._spawn(self.flush())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Write the open batch (once a slot is free); returns when it is sent, not when it is acknowledged."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._open:
            return
        await self._slots.acquire()
        batch, self._open = self._open, []
        if not batch:
            self._slots.release()
            return
        self._spawn(self._write(batch))

    async def close(self, timeout: float = 10.0) -> None:
        """Write what is open and wait (up to ``timeout`` s) for every batch in flight."""
        await self.flush()
        while self._tasks:
            done, _ = await asyncio.wait(list(self._tasks), timeout=timeout)
            if not done:
                break

    async def _write(self, batch: list[tuple[Event, bytes]]) -> None:
        try:
            if self.atomic:
                try:
                    first = await self._publish_atomic(batch)
                except Exception as e:  # refused or unanswered: one by one, the same ids (de-duplicated)
                    log.warning(
                        "event batch not stored as one; writing its events one by one",
                        extra={"events": len(batch), "error": repr(e)[:300]},
                    )
                else:
                    self._index(batch, first)
                    return
            await self._one_by_one(batch)
        finally:
            for ev, _body in batch:
                self.pending.pop(ev.id, None)
            self._slots.release()

    async def _publish_atomic(self, batch: list[tuple[Event, bytes]]) -> int:
        """Publish ``batch`` as one atomic batch; returns the stream sequence of its first event."""
        nc = self.bus.nc
        bid = next(self._ids)
        last = len(batch)
        for n, (ev, body) in enumerate(batch[:-1], 1):
            await nc.publish(
                self.subject(ev.device_name),
                body,
                headers={"Nats-Msg-Id": ev.id, "Nats-Batch-Id": bid, "Nats-Batch-Sequence": str(n)},
            )
        ev, body = batch[-1]
        headers = {"Nats-Msg-Id": ev.id, "Nats-Batch-Id": bid, "Nats-Batch-Sequence": str(last)}
        headers["Nats-Batch-Commit"] = "1"
        reply = await nc.request(self.subject(ev.device_name), body, timeout=ACK_TIMEOUT, headers=headers)
        ack = json.loads(reply.data)
        if "error" in ack or ack.get("count") != last or ack.get("batch") != bid:
            raise BatchRefusedError(str(ack.get("error", ack))[:300])
        return int(ack["seq"]) - last + 1

    def _index(self, batch: list[tuple[Event, bytes]], first: int) -> None:
        by_seq = self.index.by_seq
        for seq, (ev, _body) in enumerate(batch, first):
            known = by_seq.get(seq)
            if known is None or known.id != ev.id:  # the stream's echo may have indexed it already
                self.index.add(IndexEntry.of(seq, ev))
        self.on_stored(len(batch))

    async def _one_by_one(self, batch: list[tuple[Event, bytes]]) -> None:
        for ev, body in batch:
            try:
                await self.write_one(ev, body)
            except Exception as e:
                self.on_failed()
                log.error("event %s from the bus not stored: %s", ev.id, e)
