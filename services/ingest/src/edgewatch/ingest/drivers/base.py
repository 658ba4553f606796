"""What a protocol driver offers the device runtime: Protocols checked by capability, never by class name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["Driver", "DriverFactory", "PollingDriver"]


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

    async def read(self, resources: Sequence[str]) -> dict[str, Any]:
        """Read the named resources in as few requests as the protocol allows.

        Raises:
            DeviceIOError: the device failed or answered with an error.
        """


class DriverFactory(Protocol):
    """Builds a driver for one device from its protocol properties and its profile's resources."""

    def __call__(self, device: Any, profile: Any, options: Any) -> Driver: ...
