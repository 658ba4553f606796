"""The four metadata buckets (profiles, devices, device services, provision watchers) started together."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.deviceservice import DeviceService
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.provisionwatcher import ProvisionWatcher
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.metadata.store import EntityStore

__all__ = ["MetadataStores", "new_id", "now_ms"]


def now_ms() -> int:
    """EdgeX ``created``/``modified``: Unix milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh entity id."""
    return str(uuid.uuid4())


@dataclass
class MetadataStores:
    """All metadata, each kind in its own KV bucket ``<prefix>-<kind>``."""

    profiles: EntityStore[DeviceProfile]
    devices: EntityStore[Device]
    services: EntityStore[DeviceService]
    watchers: EntityStore[ProvisionWatcher]

    @classmethod
    def create(cls, bus: NatsBus, prefix: str, workers: ParseWorkers | None = None) -> MetadataStores:
        """Stores for ``bus`` (not started); watched values over 64 KiB (large profiles) are decoded in ``workers``."""
        w = workers
        return cls(
            profiles=EntityStore(bus, f"{prefix}-profiles", DeviceProfile, "device profile", lambda e: e.name, w),
            devices=EntityStore(bus, f"{prefix}-devices", Device, "device", lambda e: e.name, w),
            services=EntityStore(bus, f"{prefix}-deviceservices", DeviceService, "device service", lambda e: e.name, w),
            watchers=EntityStore(
                bus, f"{prefix}-provisionwatchers", ProvisionWatcher, "provision watcher", lambda e: e.name, w
            ),
        )

    async def start(self) -> None:
        """Ensure the buckets and load them."""
        for s in (self.profiles, self.devices, self.services, self.watchers):
            await s.start()

    async def stop(self) -> None:
        """Stop the watches."""
        for s in (self.profiles, self.devices, self.services, self.watchers):
            await s.stop()

    def devices_using_profile(self, name: str) -> list[Device]:
        """Devices whose profile is ``name``."""
        return [d for d in self.devices.items.values() if d.profile_name == name]

    def watchers_using_profile(self, name: str) -> list[ProvisionWatcher]:
        """Provision watchers that give discovered devices the profile ``name``."""
        return [w for w in self.watchers.items.values() if w.discovered_device.profile_name == name]
