"""Composition root of edgewatch-core: three EdgeX APIs (metadata, data, command) on one host (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.core.api.device import device_router
from edgewatch.core.api.deviceservice import service_router, watcher_router
from edgewatch.core.api.misc import secret_router, uom_router
from edgewatch.core.api.profile import profile_router
from edgewatch.core.api.profilepart import profile_part_router
from edgewatch.core.config import CoreSettings, CoreWritable
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
    events = SystemEventPublisher(bus)
    uom = UnitsOfMeasure(core.uom_file)
    profiles = ProfileRegistry(stores, events, writable, uom)
    parts = ProfileParts(profiles)
    devices = DeviceRegistry(stores, events, BusDeviceValidator(bus, lambda: settings.service.request_timeout))
    services = ServiceRegistry(stores, events)
    watchers = WatcherRegistry(stores, events)
    loader = DefinitionLoader(profiles, devices, core.profiles_dir, core.devices_dir, core.default_device_service)
    secrets: dict[str, dict[str, str]] = {}

    host.lifespan.add("metadata-kv", stores.start, stores.stop)
    host.lifespan.add("definition-files", loader.load, None)

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
    host.health_checks["metadataLoaded"] = lambda: all(
        s.loaded for s in (stores.profiles, stores.devices, stores.services, stores.watchers)
    )
    return host
