"""core-data domain: take events from the bus and from REST, store them (PersistData), answer queries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import CONTENT_JSON, decode_envelope_parts, encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import ConflictError, ContractInvalidError, EdgeXError, ErrorKind
from edgewatch.common.contracts.event import AddEventRequest, Event
from edgewatch.common.contracts.eventcodec import media_type
from edgewatch.common.contracts.reading import Reading
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.paging import Page, page_of
from edgewatch.core.config import CoreWritable
from edgewatch.core.data.eventstore import EventStore
from edgewatch.core.data.index import IndexEntry

__all__ = ["DataService"]

log = logging.getLogger(__name__)

QUEUE = "edgewatch-core-data"

Decode = Callable[[bytes, str], Awaitable[AddEventRequest]]


class DataService:
    """Events in, queries out."""

    def __init__(
        self,
        bus: NatsBus,
        metrics: ServiceMetrics,
        store: EventStore,
        writable: Callable[[], CoreWritable],
        decode: Decode,
    ) -> None:
        self.bus = bus
        self.decode = decode
        self.store = store
        self.writable = writable
        self.received = metrics.counter("core_data_events_received_total", "events received", ("via",))
        self._received_bus = self.received.labels("bus")
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe to every device-service event (one replica of a queue group stores each event)."""
        self._sub = await self.bus.subscribe(topics.device_events_all(), self._on_bus_event, queue=QUEUE)

    async def stop(self) -> None:
        """Stop taking bus events and handle the ones already received (the store then writes its open batch)."""
        if self._sub is not None:
            with contextlib.suppress(Exception):  # the bus is away: nothing more will come
                await asyncio.wait_for(self._sub.drain(), 10)  # type: ignore[no-untyped-call]

    async def _on_bus_event(self, msg: Msg) -> None:
        env = decode_envelope_parts(msg)
        req = await self.decode(env.payload, env.content_type)
        self._received_bus.inc()
        if self.writable().persist_data:
            # A JSON payload that validated is stored as received (no re-encoding); CBOR is stored as JSON.
            raw = env.payload if media_type(env.content_type) == CONTENT_JSON else None
            await self.store.submit(req.event, raw)

    async def add(self, service: str, profile: str, device: str, source: str, body: bytes, content_type: str) -> str:
        """POST /event/{service}/{profile}/{device}/{source}: check, store, re-publish; returns the event id.

        Raises:
            EdgeXError: 413 too large; ContractInvalidError 400 bad body or path mismatch; ConflictError 409 dup id.
        """
        limit_kb = self.writable().max_event_size
        if limit_kb and len(body) > limit_kb * 1024:
            raise EdgeXError(
                f"event of {len(body)} bytes exceeds MaxEventSize {limit_kb} KB", kind=ErrorKind.LIMIT_EXCEEDED
            )
        req = await self.decode(body, content_type)
        ev = req.event
        if not service:
            raise ContractInvalidError("serviceName in the path must not be empty", field="serviceName")
        for field, path_value, body_value in (
            ("profileName", profile, ev.profile_name),
            ("deviceName", device, ev.device_name),
            ("sourceName", source, ev.source_name),
        ):
            if path_value != body_value:
                raise ContractInvalidError(
                    f"{field} in the path {path_value!r} does not match event.{field} {body_value!r}", field=field
                )
        if ev.id in self.store.index.by_id:
            raise ConflictError(f"event id {ev.id!r} already exists", field="id")
        self.received.labels("rest").inc()
        if self.writable().persist_data:
            await self.store.append(ev)
        try:
            subject = topics.core_event(service, profile, device, source)
        except ValueError as e:
            log.warning("event %s stored but not re-published: %s", ev.id, e)
            return ev.id
        out, headers = encode_envelope(
            new_envelope(AddEventRequest.of(ev, req.request_id or None).to_json()), self.bus.settings.format
        )
        await self.bus.publish(subject, out, headers, kind="core-event")
        return ev.id

    async def events(
        self, page: Page, keep: Callable[[IndexEntry], bool] | None = None, numeric: bool = False
    ) -> tuple[list[Event], int]:
        """A page of events (origin descending) and the total."""
        await self.store.sync_retention()
        entries, total = page_of(self.store.index.events(keep), page)
        evs = [ev for _e, ev in await self.store.load(entries)]
        return ([e.to_numeric() for e in evs] if numeric else evs), total

    def count(self, keep: Callable[[IndexEntry], bool] | None = None) -> int:
        """Number of stored events passing ``keep``."""
        return len(self.store.index.events(keep))

    async def readings(
        self, page: Page, keep: Callable[[IndexEntry, int], bool], numeric: bool = False
    ) -> tuple[list[Reading], int]:
        """A page of readings (origin descending) and the total."""
        await self.store.sync_retention()
        refs, total = page_of(self.store.index.readings(keep), page)
        by_seq: dict[int, Event] = {}
        entries = list({r.entry.seq: r.entry for r in refs}.values())
        for entry, loaded in await self.store.load(entries):
            by_seq[entry.seq] = loaded
        out: list[Reading] = []
        for r in refs:
            found = by_seq.get(r.entry.seq)
            if found is not None and r.pos < len(found.readings):
                rd = found.readings[r.pos]
                out.append(rd.to_numeric() if numeric else rd)
        return out, total

    async def all_readings(self, keep: Callable[[IndexEntry, int], bool]) -> list[Reading]:
        """Every stored reading passing ``keep`` (for aggregates), loaded in batches."""
        refs = self.store.index.readings(keep)
        entries = list({r.entry.seq: r.entry for r in refs}.values())
        by_seq: dict[int, Event] = {}
        for i in range(0, len(entries), 256):
            for entry, loaded in await self.store.load(entries[i : i + 256]):
                by_seq[entry.seq] = loaded
        out: list[Reading] = []
        for r in refs:
            found = by_seq.get(r.entry.seq)
            if found is not None and r.pos < len(found.readings):
                out.append(found.readings[r.pos])
        return out

    def reading_count(self, keep: Callable[[IndexEntry, int], bool]) -> int:
        """Number of stored readings passing ``keep``."""
        return sum(1 for e in self.store.index for i in range(len(e.resources)) if keep(e, i))
