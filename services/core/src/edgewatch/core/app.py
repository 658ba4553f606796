"""Composition root of edgewatch-core: the EdgeX APIs (metadata, data, command) of Core.Apis on one host."""

from __future__ import annotations

from edgewatch.common.contracts.yamlsafe import YamlBudget
from edgewatch.common.service.host import ServiceHost
from edgewatch.common.service.limits import KB, route_limit, yaml_budget
from edgewatch.common.service.settings import ServiceSection
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.api.command import command_router
from edgewatch.core.api.data import EV as EVENT_PREFIX
from edgewatch.core.api.data import data_router
from edgewatch.core.api.device import device_router
from edgewatch.core.api.deviceservice import service_router, watcher_router
from edgewatch.core.api.misc import secret_router, uom_router
from edgewatch.core.api.profile import profile_router
from edgewatch.core.api.profilepart import profile_part_router
from edgewatch.core.command.commands import CommandService
from edgewatch.core.config import CoreSettings, CoreWritable
from edgewatch.core.data.decoder import EventDecoder
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
    """Build the core host (not started): the EdgeX APIs of ``Core.Apis`` (core-metadata, core-data, core-command).

    Every API shares the metadata index (JetStream KV, watched). ``edgewatch up`` runs core-command in a process of
    its own (``Core.Apis: [command]``): a command forwarded to a device never waits behind configuration traffic.
    """
    core = settings.core
    apis = set(core.apis)
    host = ServiceHost(SERVICE_NAME if apis != {"command"} else f"{SERVICE_NAME}-command", settings)
    bus = host.bus

    def writable() -> CoreWritable:
        return settings.writable

    def max_count() -> int:
        return settings.service.max_result_count

    def service() -> ServiceSection:
        return settings.service

    def budget() -> YamlBudget:
        return yaml_budget(settings.service)

    workers = ParseWorkers(service, host.metrics, preload=("edgewatch.common.contracts.yamlcompat",))
    stores = MetadataStores.create(bus, core.bucket_prefix, workers)
    events = SystemEventPublisher(bus, host.metrics)
    validator = BusDeviceValidator(bus, lambda: settings.service.request_timeout)
    devices = DeviceRegistry(stores, events, validator, workers)
    secrets: dict[str, dict[str, str]] = {}
    host.lifespan.add("metadata-kv", stores.start, stores.stop)
    host.lifespan.add("parse-workers", _nothing, workers.close)
    host.health_checks["metadataLoaded"] = lambda: all(
        s.loaded for s in (stores.profiles, stores.devices, stores.services, stores.watchers)
    )

    if "metadata" in apis:
        uom = UnitsOfMeasure(core.uom_file)
        profiles = ProfileRegistry(stores, events, writable, uom)
        loader = DefinitionLoader(
            profiles,
            devices,
            core.profiles_dir,
            core.devices_dir,
            core.default_device_service,
            lambda: yaml_budget(service()),
        )
        host.lifespan.add("definition-files", loader.load, None)
        meta = host.new_app("edgewatch core-metadata", core.metadata_port, label="core-metadata")
        for router in (
            profile_router(profiles, max_count, workers, budget),
            profile_part_router(ProfileParts(profiles), workers),
            device_router(devices, max_count, workers),
            service_router(ServiceRegistry(stores, events), max_count, workers),
            watcher_router(WatcherRegistry(stores, events), max_count, workers),
            uom_router(uom),
            secret_router(secrets),
        ):
            meta.include_router(router)

    if "data" in apis:
        event_store = EventStore(bus, host.metrics, core.retention)
        data = DataService(bus, host.metrics, event_store, writable, EventDecoder(workers, service))
        host.lifespan.add("event-stream", event_store.start, event_store.stop)
        host.lifespan.add("core-data-subscriber", data.start, data.stop)
        data_app = host.new_app("edgewatch core-data", core.data_port, label="core-data")
        data_app.include_router(data_router(data, max_count))
        data_app.include_router(secret_router(secrets))
        route_limit(
            data_app, EVENT_PREFIX, lambda: writable().max_event_size * KB, "Writable.MaxEventSize", json_depth=False
        )
        host.health_checks["eventsLoaded"] = lambda: event_store.loaded

    if "command" in apis:
        commands = CommandService(
            bus,
            stores,
            lambda: settings.service.request_timeout,
            lambda: core.command_url or f"http://{settings.service.host}:{core.command_port}",
            lambda: settings.service.max_document_depth,
            host.metrics.hop("command_forward_answer"),
        )
        host.lifespan.add("core-command-listener", CommandListener(bus, commands).start, None)
        cmd_app = host.new_app("edgewatch core-command", core.command_port, label="core-command")
        cmd_app.include_router(command_router(commands, devices, max_count))
        cmd_app.include_router(secret_router(secrets))
    return host


async def _nothing() -> None:
    """A lifespan step with nothing to start (parse workers start on first use)."""
