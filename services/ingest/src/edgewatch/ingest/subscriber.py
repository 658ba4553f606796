"""DeviceSubscriber: what a subscribing driver pushes becomes EdgeX events, one per data change.

The driver (OPC UA monitored items) calls :meth:`data_changed` with (resource, Sample) pairs and
:meth:`availability_changed` when its session comes and goes. Each change is published as an event whose source
is the resource (device-opc-ua's shape) and whose origin is the sample's (the device's source timestamp), so the
derived event id is the same if the same reading is pushed twice. Transforms apply as for polled readings; a
bad sample is a null reading with its StatusCode tags. While the device is unreachable nothing is published.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import Event, new_event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for
from edgewatch.common.contracts.values import format_value
from edgewatch.ingest.drivers.base import Sample, SubscribingDriver
from edgewatch.ingest.eventtemplate import EventTemplate
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.protocols.errors import ProtocolError

__all__ = ["DeviceSubscriber", "EncodedPublisher", "SubscriberStats"]

log = logging.getLogger(__name__)

Publish = Callable[[Event], Awaitable[None]]
StateChange = Callable[[str, str], Awaitable[None]]


@runtime_checkable
class EncodedPublisher(Protocol):
    """A publisher that also takes a ready AddEventRequest body (the fast path for one-reading events)."""

    service: str

    def publish_encoded(self, subject: str, body: bytes, event_id: str) -> Awaitable[None]:
        """Publish an AddEventRequest JSON body (of event ``event_id``) on an EdgeX event subject."""


@dataclass(slots=True)
class SubscriberStats:
    """Counters of one device's pushed data."""

    changes: int = 0
    events: int = 0
    dropped: int = 0


class DeviceSubscriber:
    """Subscribes one device and publishes what it pushes (a :class:`~edgewatch.ingest.drivers.base.PushSink`)."""

    def __init__(
        self, runtime: DeviceRuntime, publish: Publish, on_state: StateChange, metrics: IngestMetrics | None = None
    ) -> None:
        if not isinstance(runtime.driver, SubscribingDriver):
            raise TypeError(f"{runtime.name}: the driver cannot subscribe")
        self.runtime = runtime
        self.driver: SubscribingDriver = runtime.driver
        self.publish = publish
        self.on_state = on_state
        self.metrics = metrics
        self.stats = SubscriberStats()
        self.state = ""
        self.reason = ""
        self._fast = publish if isinstance(publish, EncodedPublisher) else None
        self._templates: dict[tuple[str, int], tuple[Mapping[str, Any] | None, EventTemplate | None]] = {}
        self._subjects: dict[str, str] = {}

    async def start(self) -> None:
        """Subscribe (the driver keeps the subscription across reconnects)."""
        await self.driver.subscribe(self)

    async def stop(self) -> None:
        """Unsubscribe."""
        await self.driver.unsubscribe()

    async def availability_changed(self, up: bool, reason: str) -> None:
        """The device is reachable with its subscription in place (UP), or not (DOWN)."""
        state = "UP" if up else "DOWN"
        self.reason = reason
        if state == self.state:
            return
        self.state = state
        if up:
            log.info("device UP (subscription in place)", extra={"device": self.runtime.name})
        else:
            log.warning("device DOWN", extra={"device": self.runtime.name, "error": reason})
        try:
            await self.on_state(self.runtime.name, state)
        except Exception:
            log.exception("operating state update failed", extra={"device": self.runtime.name, "state": state})

    async def data_changed(self, changes: Sequence[tuple[str, Sample]]) -> None:
        """Publish one event per change, in order."""
        rt = self.runtime
        published = 0
        for name, sample in changes:
            self.stats.changes += 1
            try:
                if self._fast is not None and sample.good and (template := self._template(rt, name, sample)):
                    spec = rt.resources[name]
                    text = format_value(spec.value_type, spec.transform.read(sample.value))
                    eid, body = template.render(sample.origin if sample.origin is not None else time.time_ns(), text)
                    publish = self._fast.publish_encoded(self._subject(name), body, eid)
                else:
                    publish = self.publish(self._event(rt, name, sample))
            except ProtocolError as e:
                self._drop(type(e).__name__, name, e.message)
                continue
            try:
                await publish
            except Exception as e:  # the device is fine; the bus is not: count, log, go on
                self._drop("publish", name, repr(e)[:300])
                continue
            published += 1
        self.stats.events += published
        if self.metrics is not None and published:
            self.metrics.event(rt.name, published, events=published)

    def _template(self, rt: DeviceRuntime, name: str, sample: Sample) -> EventTemplate | None:
        key = (name, id(sample.tags))
        cached = self._templates.get(key)
        if cached is not None and cached[0] is sample.tags:
            return cached[1]
        spec = rt.resources[name]
        tags = {**(spec.tags or {}), **(sample.tags or {})} or None
        template = EventTemplate.build(
            rt.name, rt.profile.name, name, spec.value_type, units=spec.units, tags=tags, event_tags=rt.device.tags
        )
        self._templates[key] = (sample.tags, template)  # the tags object is kept, so its id stays unique
        return template

    def _subject(self, name: str) -> str:
        subject = self._subjects.get(name)
        if subject is None:
            assert self._fast is not None
            subject = self._subjects[name] = topics.device_event(
                self._fast.service, self.runtime.profile.name, self.runtime.name, name
            )
        return subject

    def _event(self, rt: DeviceRuntime, name: str, sample: Sample) -> Event:
        spec = rt.resources[name]
        value = spec.transform.read(sample.value) if sample.good else None
        origin = sample.origin if sample.origin is not None else time.time_ns()
        event_id = event_id_for(rt.name, name, origin)
        reading = rt.reading(name, value, origin, id=reading_id_for(event_id, 0), sample=sample)
        tags = dict(rt.device.tags) if rt.device.tags else None
        return new_event(rt.name, rt.profile.name, name, [reading], origin=origin, id=event_id, tags=tags)

    def _drop(self, kind: str, resource: str, error: str) -> None:
        self.stats.dropped += 1
        if self.metrics is not None:
            self.metrics.error(self.runtime.name, kind)
        log.warning("pushed reading dropped", extra={"device": self.runtime.name, "resource": resource, "error": error})
