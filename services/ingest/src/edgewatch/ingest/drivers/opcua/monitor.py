"""One OPC UA subscription per device: its monitored items, created on every (re)connect of the session.

Each device has its own publishing interval (EdgeX device-opc-ua: one subscribed device per service, a fixed
500 ms). Items carry their resource's sampling interval, queue size, discard policy and deadband filter. What the
server pushes is turned into Samples and handed, with the availability changes, in arrival order to a per-device
delivery task through a short bounded queue: the session's publish loop sends its next PublishRequest while the
previous batch is being published, and a sink that falls behind by more than the queue slows the loop down
instead of queueing without bound. Before delivery:

- exact repeats are dropped: after a reconnect the server sends every item's current value again; when value,
  StatusCode and timestamp equal what was last delivered, it is the same reading, not a new one;
- the deadband is applied again against the last *delivered* value (Absolute, or Percent of the node's EURange),
  so servers that do not implement it, or compare with the previous sample instead (asyncua), are filtered too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncua import Client, ua

from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.ingest.drivers.base import PushSink, Sample
from edgewatch.ingest.drivers.opcua.samples import Origin, sample_of
from edgewatch.ingest.drivers.opcua.session import OpcUaSession
from edgewatch.ingest.errors import DeviceIOError
from edgewatch.protocols.opcua.attributes import Deadband, MonitorSpec
from edgewatch.protocols.opcua.status import STATUS_CODE_TAG, status_text

__all__ = ["DeviceMonitor", "MonitorStats", "MonitoredResource"]

log = logging.getLogger(__name__)

_QUEUED_BATCHES = 4  # publish responses in flight between the publish loop and the sink
Delivery = list[tuple[str, Sample]] | tuple[bool, str]


@dataclass(frozen=True, slots=True)
class MonitoredResource:
    """One resource to monitor."""

    name: str
    node_id: ua.NodeId
    spec: MonitorSpec
    value_type: ValueType
    node_text: str = ""  # the node id as text (for messages; filled in when empty)

    def __post_init__(self) -> None:
        if not self.node_text:
            object.__setattr__(self, "node_text", str(self.node_id.to_string()))


@dataclass(slots=True)
class MonitorStats:
    """Counters of one device's subscription."""

    notifications: int = 0
    delivered: int = 0
    repeats: int = 0
    deadband: int = 0
    subscriptions: int = 0
    item_errors: dict[str, str] = field(default_factory=dict)


class DeviceMonitor:
    """A device's subscription on a shared session (a :class:`SessionListener`)."""

    def __init__(
        self,
        device: str,
        resources: Sequence[MonitoredResource],
        sink: PushSink,
        *,
        publishing_interval: float,
        origin: Origin,
    ) -> None:
        self.device = device
        self.sink = sink
        self.publishing_interval = publishing_interval
        self.origin = origin
        self.stats = MonitorStats()
        self.subscription_id: int | None = None
        self._handles = {i + 1: r for i, r in enumerate(resources)}  # stable across reconnects
        self._last: dict[str, tuple[int | None, str, Any]] = {}
        self._spans: dict[str, float] = {}
        self._up: bool | None = None
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=_QUEUED_BATCHES)
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._creating = asyncio.Lock()
        self._created_for = -1  # the session generation the subscription exists on

    # --- SessionListener -----------------------------------------------------------------------------------

    async def session_up(self, session: OpcUaSession, client: Client) -> None:
        """Create the subscription and its items (once per connection); the device is UP once they exist."""
        async with self._creating:  # the session and a new device's registration may both ask at once
            if self._created_for == session.generation or self._closed:
                return
            try:
                await self._create(session, client)
            except DeviceIOError as e:
                log.error("opcua subscription failed", extra={"device": self.device, "error": e.message})
                await self._availability(False, f"subscription failed: {e.message}")
                return
            self._created_for = session.generation
        await self._availability(True, "")

    async def session_down(self, reason: str) -> None:
        """The server-side subscription is gone with the session."""
        self.subscription_id = None
        self._created_for = -1
        await self._availability(False, reason)

    async def delete(self, session: OpcUaSession) -> None:
        """Delete the server-side subscription (best effort: the session may be gone)."""
        sid, self.subscription_id = self.subscription_id, None
        client = session.client
        if sid is None or client is None:
            return
        try:
            await session.request("delete subscription", lambda c: c.uaclient.delete_subscriptions([sid]))
        except DeviceIOError as e:
            log.info("opcua subscription not deleted", extra={"device": self.device, "error": e.message})

    async def close(self) -> None:
        """Stop delivering (what is still queued is dropped: the device is being stopped)."""
        self._closed = True  # a publish response still in flight must not start delivering again
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _availability(self, up: bool, reason: str) -> None:
        if self._up is up:
            return
        self._up = up
        await self._put((up, reason))

    async def _put(self, item: Delivery) -> None:
        if self._closed:
            return
        if self._task is None:
            self._task = asyncio.create_task(self._deliver(), name=f"opcua delivery {self.device}")
        await self._queue.put(item)

    async def _deliver(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, tuple):
                    await self.sink.availability_changed(*item)
                else:
                    await self.sink.data_changed(item)
            except Exception:  # a sink bug must not stop the device's deliveries
                log.exception("opcua delivery failed", extra={"device": self.device})

    # --- creation ------------------------------------------------------------------------------------------

    def _parameters(self) -> ua.CreateSubscriptionParameters:
        ms = self.publishing_interval * 1000.0
        keepalive = max(1, math.ceil(5000.0 / ms))  # a keep-alive at least every ~5 s
        params = ua.CreateSubscriptionParameters()
        params.RequestedPublishingInterval = ms
        params.RequestedMaxKeepAliveCount = keepalive
        # the server drops the subscription of a vanished client after ~60 s (and at least 3 keep-alives)
        params.RequestedLifetimeCount = max(3 * keepalive, math.ceil(60000.0 / ms))
        params.MaxNotificationsPerPublish = 0
        params.PublishingEnabled = True
        params.Priority = 0
        return params

    async def _create(self, session: OpcUaSession, client: Client) -> None:
        params = self._parameters()
        result = await session.request(
            "create subscription", lambda c: c.uaclient.create_subscription(params, self._on_publish)
        )
        self.subscription_id = int(result.SubscriptionId)
        self.stats.subscriptions += 1
        await self._read_spans(session)
        items = [self._item(handle, r) for handle, r in self._handles.items()]
        step = session.limits.monitored
        for i in range(0, len(items), step):
            req = ua.CreateMonitoredItemsParameters()
            req.SubscriptionId = self.subscription_id
            req.ItemsToCreate = items[i : i + step]
            req.TimestampsToReturn = ua.TimestampsToReturn.Both

            async def create(c: Client, r: Any = req) -> list[ua.MonitoredItemCreateResult]:
                return list(await c.uaclient.create_monitored_items(r))

            results = await session.request(f"create {len(req.ItemsToCreate)} monitored items", create)
            for item, res in zip(req.ItemsToCreate, results, strict=True):
                r = self._handles[item.RequestedParameters.ClientHandle]
                if res.StatusCode.is_good():
                    self.stats.item_errors.pop(r.name, None)
                    continue
                why = f"node {r.node_text}: {status_text(int(res.StatusCode.value))}"
                self.stats.item_errors[r.name] = why
                log.error(
                    "opcua monitored item refused", extra={"device": self.device, "resource": r.name, "error": why}
                )

    def _item(self, handle: int, r: MonitoredResource) -> ua.MonitoredItemCreateRequest:
        mp = ua.MonitoringParameters()
        mp.ClientHandle = handle
        mp.SamplingInterval = r.spec.sampling_interval
        mp.QueueSize = r.spec.queue_size
        mp.DiscardOldest = r.spec.discard_oldest
        mp.Filter = r.spec.data_change_filter()
        req = ua.MonitoredItemCreateRequest()
        req.ItemToMonitor = ua.ReadValueId(NodeId=r.node_id, AttributeId=ua.AttributeIds.Value)
        req.MonitoringMode = ua.MonitoringMode.Reporting
        req.RequestedParameters = mp
        return req

    async def _read_spans(self, session: OpcUaSession) -> None:
        """EURange (High - Low) of the items with a Percent deadband."""
        percent = [r for r in self._handles.values() if r.spec.deadband is Deadband.PERCENT]
        for r in percent:

            async def span(c: Client, node: ua.NodeId = r.node_id) -> float | None:
                try:
                    prop = await c.get_node(node).get_child("0:EURange")
                    rng = await prop.read_value()
                except ua.UaStatusCodeError:
                    return None
                return float(rng.High - rng.Low) if isinstance(rng, ua.Range) else None

            found = await session.request(f"EURange of {r.node_text}", span)
            if found is None:
                self._spans.pop(r.name, None)
                log.warning(
                    "percent deadband without EURange: left to the server",
                    extra={"device": self.device, "resource": r.name},
                )
            else:
                self._spans[r.name] = found

    # --- notifications -------------------------------------------------------------------------------------

    async def _on_publish(self, result: ua.PublishResult) -> None:
        data = result.NotificationMessage.NotificationData
        if not data:
            return  # keep-alive
        changes: list[tuple[str, Sample]] = []
        for notification in data:
            if isinstance(notification, ua.DataChangeNotification):
                for item in notification.MonitoredItems:
                    r = self._handles.get(item.ClientHandle)
                    if r is None:
                        continue
                    self.stats.notifications += 1
                    sample = sample_of(
                        item.Value, r.value_type, self.origin, device=self.device, resource=r.name, node=r.node_text
                    )
                    if self._keep(r, sample):
                        changes.append((r.name, sample))
            elif isinstance(notification, ua.StatusChangeNotification):
                log.info(
                    "opcua subscription status change",
                    extra={"device": self.device, "status": status_text(int(notification.Status.value))},
                )
        if changes:
            self.stats.delivered += len(changes)
            await self._put(changes)

    def _keep(self, r: MonitoredResource, sample: Sample) -> bool:
        status = str(sample.tags[STATUS_CODE_TAG]) if sample.tags else ""
        key = (sample.origin, status, sample.value)
        last = self._last.get(r.name)
        if last is not None:
            if last == key and sample.origin is not None:
                self.stats.repeats += 1
                return False
            if self._within_deadband(r, sample, last):
                self.stats.deadband += 1
                return False
        self._last[r.name] = key
        return True

    def _within_deadband(self, r: MonitoredResource, sample: Sample, last: tuple[int | None, str, Any]) -> bool:
        spec = r.spec
        if (
            spec.deadband is Deadband.NONE
            or not sample.good
            or last[1] != (str(sample.tags[STATUS_CODE_TAG]) if sample.tags else "")
        ):
            return False
        old, new = last[2], sample.value
        if (
            isinstance(old, bool)
            or isinstance(new, bool)
            or not isinstance(old, int | float)
            or not isinstance(new, int | float)
        ):
            return False
        if spec.deadband is Deadband.ABSOLUTE:
            limit = spec.deadband_value
        else:
            span = self._spans.get(r.name)
            if span is None:
                return False
            limit = spec.deadband_value / 100.0 * span
        return abs(float(new) - float(old)) <= limit
