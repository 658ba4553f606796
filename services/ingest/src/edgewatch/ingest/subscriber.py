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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from edgewatch.common.contracts.event import Event, new_event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for
from edgewatch.ingest.drivers.base import Sample, SubscribingDriver
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.protocols.errors import ProtocolError

__all__ = ["DeviceSubscriber", "SubscriberStats"]

log = logging.getLogger(__name__)

Publish = Callable[[Event], Awaitable[None]]
StateChange = Callable[[str, str], Awaitable[None]]


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
        for name, sample in changes:
            self.stats.changes += 1
            try:
                event = self._event(rt, name, sample)
            except ProtocolError as e:
                self._drop(type(e).__name__, name, e.message)
                continue
            try:
                await self.publish(event)
            except Exception as e:  # the device is fine; the bus is not: count, log, go on
                self._drop("publish", name, repr(e)[:300])
                continue
            self.stats.events += 1
            if self.metrics is not None:
                self.metrics.event(rt.name, 1)

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
