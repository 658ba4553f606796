"""What a protocol driver offers the device runtime: Protocols checked by capability, never by class name.

``PollingDriver`` (Modbus, OPC UA reads) is read by the scheduler's poll loop; ``SubscribingDriver`` (OPC UA
monitored items) pushes values itself to a :class:`PushSink`. A driver may return plain values, or
:class:`Sample` objects when the protocol delivers a timestamp, a quality or a per-resource error with each value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from edgewatch.protocols.errors import ProtocolError

__all__ = ["Driver", "DriverFactory", "PollingDriver", "PushSink", "Sample", "SubscribingDriver"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One value with what the protocol says about it.

    ``origin``: when the device sampled it (Unix ns; None = the gateway's clock when the event is built).
    ``tags``: reading tags (e.g. the OPC UA StatusCode). ``good``: False means the value is unusable; it is
    published as an EdgeX null reading carrying the tags, never as a good reading. ``error``: the device refused
    this resource (an unknown node...): no reading, the error goes to the caller.
    """

    value: Any
    origin: int | None = None
    tags: Mapping[str, Any] | None = None
    good: bool = True
    error: ProtocolError | None = None


@runtime_checkable
class Driver(Protocol):
    """One device's access path. Values are in the resource's valueType before EdgeX transforms."""

    device: str

    async def connect(self) -> None:
        """Prepare the connection (a failure here is retried by the runtime)."""

    async def close(self) -> None:
        """Release the device's share of the connection."""

    async def write(self, values: Mapping[str, Any]) -> None:
        """Write resource values (in profile order).

        Raises:
            DeviceIOError: the device failed or answered with an error.
        """


@runtime_checkable
class PollingDriver(Driver, Protocol):
    """A driver that reads on demand; the scheduler polls it and may ask for many resources at once."""

    async def read(self, resources: Sequence[str]) -> Mapping[str, Any]:
        """Read the named resources in as few requests as the protocol allows (values or :class:`Sample`).

        Raises:
            DeviceIOError: the device failed or answered with an error.
        """


class PushSink(Protocol):
    """Where a subscribing driver delivers what the device pushes."""

    async def data_changed(self, changes: Sequence[tuple[str, Sample]]) -> None:
        """Values of monitored resources, in arrival order (awaited: a slow sink slows the subscription down)."""

    async def availability_changed(self, up: bool, reason: str) -> None:
        """The device became reachable (subscriptions in place) or unreachable."""


@runtime_checkable
class SubscribingDriver(Driver, Protocol):
    """A driver whose device pushes changes (OPC UA monitored items); the runtime subscribes once per device."""

    @property
    def monitored(self) -> Sequence[str]:
        """The resources the device pushes (empty: nothing to subscribe)."""

    async def subscribe(self, sink: PushSink) -> None:
        """Start pushing to ``sink``; kept in place across reconnects until :meth:`unsubscribe`."""

    async def unsubscribe(self) -> None:
        """Stop pushing."""


class DriverFactory(Protocol):
    """Builds a driver for one device from its protocol properties and its profile's resources."""

    def __call__(self, device: Any, profile: Any, options: Any) -> Driver: ...
