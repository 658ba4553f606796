"""A read-only replica of core-metadata's devices, profiles and device services for the direct command route.

The same JetStream KV buckets core-command's process watches (``<Core.BucketPrefix>-devices`` / ``-profiles`` /
``-deviceservices``), followed the same way (:class:`KvReplica`), so rules sees a lock, a DOWN device or a profile
change when core-command does: within the KV watch's delivery time after core-metadata stored it. Rules never
creates or writes the buckets; until all three are loaded (core not up yet, bus just connected) the replica is not
``ready`` and commands go through core-command.
"""

from __future__ import annotations

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.devicecommand import CommandMetadata
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.deviceservice import DeviceService
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.service.kvreplica import KvReplica

__all__ = ["MetadataReplica"]


class MetadataReplica:
    """Devices, profiles and device services as core-metadata stored them (read-only, watched)."""

    def __init__(self, bus: NatsBus, prefix: str) -> None:
        self.bus = bus
        self.devices = KvReplica(bus, f"{prefix}-devices", Device, "device", lambda e: e.name)
        self.profiles = KvReplica(bus, f"{prefix}-profiles", DeviceProfile, "device profile", lambda e: e.name)
        self.services = KvReplica(bus, f"{prefix}-deviceservices", DeviceService, "device service", lambda e: e.name)
        self.lookup = CommandMetadata(self.devices.get, self.profiles.find, self.services.find)

    async def start(self) -> None:
        """Start following the buckets in the background (does not wait for them)."""
        for r in (self.devices, self.profiles, self.services):
            r.follow()

    async def stop(self) -> None:
        """Stop following."""
        for r in (self.devices, self.profiles, self.services):
            await r.stop()

    @property
    def ready(self) -> bool:
        """All three buckets loaded and the bus connected (after a reconnect the watches may lag: no)."""
        return self.devices.loaded and self.profiles.loaded and self.services.loaded and self.bus.connected
