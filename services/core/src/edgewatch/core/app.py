"""Composition root of edgewatch-core: three EdgeX APIs (metadata, data, command) on one host (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.core.api.command import command_router
from edgewatch.core.api.data import data_router
from edgewatch.core.api.device import device_router
from edgewatch.core.api.deviceservice import service_router, watcher_router
from edgewatch.core.api.misc import secret_router, uom_router
from edgewatch.core.api.profile import profile_router
from edgewatch.core.api.profilepart import profile_part_router
from edgewatch.core.command.commands import CommandService
from edgewatch.core.config import CoreSettings, CoreWritable
from edgewatch.core.data.eventstore import EventStore
from edgewatch.core.data.service import DataService
from edgewatch.core.messaging import CommandListener
from edgewatch.core.metadata.devices import DeviceRegistry
from edgewatch.core.metadata.loader import DefinitionLoader
from edgewatch.core.metadata.profileparts import ProfileParts
from edgewatch.core.metadata.profiles import ProfileRegistry
from edgewatch.core.metadata.services import ServiceRegistry, WatcherRegistry
from edgewatch.core.metadata.stores import MetadataStores
from edgewatch.core.metadata.sysevents import SystemEventPublisher
from edgewatch.core.metadata.uom import UnitsOfMeasure
from edgewatch.core.metadata.validation import BusDeviceValidator

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-core"


def build_app(settings: CoreSettings) -> ServiceHost:
    """Build the core host (not started): core-metadata, core-data and core-command apps."""
    host = ServiceHost(SERVICE_NAME, settings)
    bus = host.bus
    core = settings.core

    def writable() -> CoreWritable:
        return settings.writable

    def max_count() -> int:
        return settings.service.max_result_count

    stores = MetadataStores.create(bus, core.bucket_prefix)
    events = SystemEventPublisher(bus, host.metrics)
    uom = UnitsOfMeasure(core.uom_file)
    profiles = ProfileRegistry(stores, events, writable, uom)
    parts = ProfileParts(profiles)
    devices = DeviceRegistry(stores, events, BusDeviceValidator(bus, lambda: settings.service.request_timeout))
    services = ServiceRegistry(stores, events)
    watchers = WatcherRegistry(stores, events)
    loader = DefinitionLoader(profiles, devices, core.profiles_dir, core.devices_dir, core.default_device_service)
    secrets: dict[str, dict[str, str]] = {}

    event_store = EventStore(bus, host.metrics, core.retention)
    data = DataService(bus, host.metrics, event_store, writable)
    commands = CommandService(
        bus,
        stores,
        lambda: settings.service.request_timeout,
        lambda: core.command_url or f"http://{settings.service.host}:{core.command_port}",
    )
    listener = CommandListener(bus, commands)

    host.lifespan.add("metadata-kv", stores.start, stores.stop)
    host.lifespan.add("definition-files", loader.load, None)
    host.lifespan.add("event-stream", event_store.start, event_store.stop)
    host.lifespan.add("core-data-subscriber", data.start, None)
    host.lifespan.add("core-command-listener", listener.start, None)

    meta = host.new_app("edgewatch core-metadata", core.metadata_port, label="core-metadata")
    for router in (
        profile_router(profiles, max_count),
        profile_part_router(parts),
        device_router(devices, max_count),
        service_router(services, max_count),
        watcher_router(watchers, max_count),
        uom_router(uom),
        secret_router(secrets),
    ):
        meta.include_router(router)
    data_app = host.new_app("edgewatch core-data", core.data_port, label="core-data")
    data_app.include_router(data_router(data, max_count))
    data_app.include_router(secret_router(secrets))
    cmd_app = host.new_app("edgewatch core-command", core.command_port, label="core-command")
    cmd_app.include_router(command_router(commands, devices, max_count))
    cmd_app.include_router(secret_router(secrets))
    host.health_checks["eventsLoaded"] = lambda: event_store.loaded
    host.health_checks["metadataLoaded"] = lambda: all(
        s.loaded for s in (stores.profiles, stores.devices, stores.services, stores.watchers)
    )
    return host
