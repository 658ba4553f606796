"""Device and profile sources: local files, or core-metadata with live system events.

core-metadata: bootstrap with retries, then system events applied live; operating-state changes go back to it.
"""

from __future__ import annotations

import asyncio
import logging

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.systemevent import SystemEvent
from edgewatch.ingest.config import IngestSettings
from edgewatch.ingest.messaging import parse_details
from edgewatch.ingest.metadata import MetadataClient, load_local
from edgewatch.ingest.registry import DeviceRegistry

__all__ = ["Definitions"]

log = logging.getLogger(__name__)


class Definitions:
    """Loads devices and profiles (local files, or core-metadata) and follows metadata's system events."""

    def __init__(
        self, service: str, settings: IngestSettings, registry: DeviceRegistry, metadata: MetadataClient | None
    ) -> None:
        self.service = service
        self.settings = settings
        self.registry = registry
        self.metadata = metadata
        self.task: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    async def start(self) -> None:
        """Load from files, or start the core-metadata bootstrap in the background."""
        if self.metadata is None:
            await self._load_local()
        else:
            self.registry.state_sinks.append(self._patch_state)
            self.task = asyncio.create_task(self._bootstrap_core(), name="metadata bootstrap")

    async def stop(self) -> None:
        """Stop the bootstrap, every poll loop and the metadata client."""
        await cancel_and_wait([self.task])
        await self.registry.close()
        if self.metadata is not None:
            await self.metadata.close()

    async def _load_local(self) -> None:
        d = self.settings.device
        profiles, devices = load_local(d.profiles_dir, d.devices_dir, self.service)
        for p in profiles:
            await self.registry.put_profile(p)
        for dev in devices:
            await self.registry.put_device(dev)
        self.loaded.set()

    async def _bootstrap_core(self) -> None:
        md = self.metadata
        assert md is not None
        s = self.settings
        base = s.base_address or f"http://{s.service.host}:{s.service.port}"
        profiles, devices = load_local(s.device.profiles_dir, s.device.devices_dir, self.service)
        await md.retry("register service", md.register_service, self.service, base)
        await md.retry("add profiles", md.add_profiles, profiles)
        await md.retry("add devices", md.add_devices, devices)
        owned: list[Device] = await md.retry("list devices", md.devices_of, self.service)
        for name in sorted({d.profile_name for d in owned if d.profile_name}):
            await self.registry.put_profile(await md.retry("get profile", md.profile, name))
        for dev in owned:
            await self.registry.put_device(dev)
        self.loaded.set()
        log.info("devices loaded from core-metadata", extra={"count": len(owned)})

    async def _patch_state(self, device: str, state: str) -> None:
        if self.metadata is not None:
            await self.metadata.set_operating_state(device, state)

    async def on_system_event(self, event: SystemEvent) -> None:
        """Apply a device / deviceprofile add, update or delete live."""
        if event.type not in ("device", "deviceprofile"):
            return
        if event.action == "delete":
            name = event.details.get("name") if isinstance(event.details, dict) else None
            if not name:
                return
            if event.type == "device":
                await self.registry.remove_device(str(name))
            else:
                await self.registry.remove_profile(str(name))
            return
        dto = parse_details(event)
        if isinstance(dto, DeviceProfile):
            if self.registry.profiles.get(dto.name) != dto and (
                dto.name in self.registry.profiles
                or any(d.profile_name == dto.name for d in self.registry.devices.values())
            ):
                await self.registry.put_profile(dto)
        elif isinstance(dto, Device) and dto.service_name == self.service:
            if dto.profile_name and dto.profile_name not in self.registry.profiles and self.metadata is not None:
                await self.registry.put_profile(await self.metadata.profile(dto.profile_name))
            await self.registry.put_device(dto)
