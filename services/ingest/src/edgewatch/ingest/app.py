"""Composition root of edgewatch-ingest: build_app() wires bus, drivers, registry, commands and routes (the only
wiring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.systemevent import SystemEvent
from edgewatch.common.service.host import ServiceHost
from edgewatch.ingest.api import command_router
from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.config import IngestSettings
from edgewatch.ingest.drivers.modbus.driver import ModbusOptions
from edgewatch.ingest.drivers.modbus.protocol import ConnectionPool
from edgewatch.ingest.messaging import EventPublisher, Messaging, parse_details
from edgewatch.ingest.metadata import MetadataClient, load_local
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.registry import DeviceRegistry
from edgewatch.ingest.scheduler import PollerSettings

__all__ = ["SDK_VERSION", "SERVICE_NAME", "build_app"]

log = logging.getLogger(__name__)

SERVICE_NAME = "edgewatch-ingest"
SDK_VERSION = "edgewatch-0.1.0"


class _Definitions:
    """Loads devices and profiles (local files, or core-metadata) and follows metadata's system events."""

    def __init__(self, settings: IngestSettings, registry: DeviceRegistry, metadata: MetadataClient | None) -> None:
        self.settings = settings
        self.registry = registry
        self.metadata = metadata
        self.task: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    async def start(self) -> None:
        if self.metadata is None:
            await self._load_local()
        else:
            self.registry.state_sinks.append(self._patch_state)
            self.task = asyncio.create_task(self._bootstrap_core(), name="metadata bootstrap")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.registry.close()
        if self.metadata is not None:
            await self.metadata.close()

    async def _load_local(self) -> None:
        d = self.settings.device
        profiles, devices = load_local(d.profiles_dir, d.devices_dir, SERVICE_NAME)
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
        profiles, devices = load_local(s.device.profiles_dir, s.device.devices_dir, SERVICE_NAME)
        await md.retry("register service", md.register_service, SERVICE_NAME, base)
        await md.retry("add profiles", md.add_profiles, profiles)
        await md.retry("add devices", md.add_devices, devices)
        owned: list[Device] = await md.retry("list devices", md.devices_of, SERVICE_NAME)
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
        elif isinstance(dto, Device) and dto.service_name == SERVICE_NAME:
            if dto.profile_name and dto.profile_name not in self.registry.profiles and self.metadata is not None:
                await self.registry.put_profile(await self.metadata.profile(dto.profile_name))
            await self.registry.put_device(dto)


def build_app(settings: IngestSettings) -> ServiceHost:
    """Build the service host (not started)."""
    host = ServiceHost(SERVICE_NAME, settings)
    metrics = IngestMetrics(host.metrics)
    publisher = EventPublisher(host.bus, SERVICE_NAME, settings.message_bus.format)
    d, m = settings.device, settings.modbus
    options = ModbusOptions(
        pool=ConnectionPool(backoff_initial=d.reconnect_initial, backoff_max=d.reconnect_max),
        max_gap_registers=m.max_gap_registers,
        max_gap_bits=m.max_gap_bits,
        default_timeout=m.default_timeout,
    )
    registry = DeviceRegistry(
        SERVICE_NAME,
        options,
        publisher,
        poller=PollerSettings(allowed_fails=d.allowed_fails, backoff_max=d.backoff_max),
        metrics=metrics,
    )
    commands = CommandService(registry, publisher, metrics)
    core = settings.clients.core_metadata
    metadata = MetadataClient(core.url(), token=settings.service.bearer_token()) if core.configured else None
    definitions = _Definitions(settings, registry, metadata)
    messaging = Messaging(
        host.bus,
        SERVICE_NAME,
        commands,
        registry,
        settings.message_bus.format,
        on_system_event=definitions.on_system_event if metadata is not None else None,
    )
    host.lifespan.add("messaging", messaging.start, None)
    host.lifespan.add("devices", definitions.start, definitions.stop)
    host.health_checks["devicesLoaded"] = definitions.loaded.is_set
    app = host.new_app("edgewatch ingest", settings.service.port, sdk_version=SDK_VERSION)
    app.include_router(command_router(commands))
    app.state.registry = registry  # for tests and introspection only; domain code gets it by constructor
    app.state.definitions = definitions
    return host
