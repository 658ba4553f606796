"""Composition root of edgewatch-ingest: build_app() wires everything (the only wiring)."""

from __future__ import annotations

import os
from pathlib import Path

from edgewatch.common.service.host import ServiceHost
from edgewatch.ingest.api import command_router
from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.config import IngestSettings
from edgewatch.ingest.definitions import Definitions
from edgewatch.ingest.driveroptions import LazyDriverOptions
from edgewatch.ingest.drivers.modbus.driver import ModbusOptions
from edgewatch.ingest.drivers.modbus.protocol import ConnectionPool
from edgewatch.ingest.messaging import EventPublisher, Messaging
from edgewatch.ingest.metadata import MetadataClient
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.registry import DeviceRegistry
from edgewatch.ingest.scheduler import PollerSettings

__all__ = ["SDK_VERSION", "SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-ingest"
SDK_VERSION = "edgewatch-0.1.0"


async def _noop() -> None:
    return None


def _opcua_options(settings: IngestSettings, lazy: LazyDriverOptions) -> object:
    """OPC UA's session pool and link defaults (imports asyncua: called at the first OPC UA device)."""
    from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions, SessionPool
    from edgewatch.ingest.drivers.opcua.properties import LinkDefaults
    from edgewatch.protocols.opcua.client import ClientOptions
    from edgewatch.protocols.opcua.security import Pki

    o, d = settings.opcua, settings.device
    data = Path(os.path.expanduser(settings.data_dir))
    pool = SessionPool(
        Pki(o.pki_dir or data / "opcua" / "pki"),
        Path(os.path.expanduser(o.secrets_dir)) if o.secrets_dir else data / "secrets",
        ClientOptions(o.application_uri, o.request_timeout, o.session_timeout, o.watchdog_interval),
        backoff_initial=d.reconnect_initial,
        backoff_max=d.reconnect_max,
        max_per_request=o.max_nodes_per_request,
    )
    defaults = LinkDefaults(o.policy, o.mode, o.publishing_interval, o.timestamp_origin, o.cert_file, o.key_file)
    lazy.on_close(pool.close)
    return OpcUaOptions(pool, defaults)


def _ethercat_options(settings: IngestSettings, lazy: LazyDriverOptions) -> object:
    """EtherCAT's master pool (imports pysoem: called at the first EtherCAT device)."""
    from edgewatch.ingest.drivers.ethercat.pool import EtherCatOptions, MasterPool
    from edgewatch.protocols.ethercat.master import MasterSettings

    e = settings.ethercat
    master = MasterSettings(
        receive_timeout_us=e.receive_timeout_us,
        stale_cycles=e.stale_cycles,
        supervise_interval=e.supervise_interval,
        retry_interval=e.retry_interval,
        state_timeout_us=e.state_timeout_us,
        priority=e.cycle_priority,
        worker_process=e.worker_process,
    )
    pool = MasterPool(master)
    lazy.on_close(pool.close)
    return EtherCatOptions(pool)


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
    modbus = lambda: options  # noqa: E731
    driver_options = LazyDriverOptions(
        {
            "modbus-tcp": modbus,
            "modbus-rtu": modbus,
            "opcua": lambda: _opcua_options(settings, driver_options),
            "ethercat": lambda: _ethercat_options(settings, driver_options),
        }
    )
    registry = DeviceRegistry(
        SERVICE_NAME,
        driver_options,
        publisher,
        poller=PollerSettings(allowed_fails=d.allowed_fails, backoff_max=d.backoff_max),
        metrics=metrics,
    )
    commands = CommandService(registry, publisher, metrics)
    core = settings.clients.core_metadata
    # The client's own token (Clients.CoreMetadata.AuthTokenFile) first, else the suite-wide Service token.
    token = (core.token() or settings.service.bearer_token()) if core.configured else ""
    metadata = MetadataClient(core.url(), token=token) if core.configured else None
    definitions = Definitions(SERVICE_NAME, settings, registry, metadata)
    messaging = Messaging(
        host.bus,
        SERVICE_NAME,
        commands,
        registry,
        settings.message_bus.format,
        on_system_event=definitions.on_system_event if metadata is not None else None,
        max_depth=lambda: settings.service.max_document_depth,
        command_hop=metrics.device_command,
    )
    host.lifespan.add("messaging", messaging.start, None)
    host.lifespan.add("opcua sessions and ethercat masters", _noop, driver_options.close)
    host.lifespan.add("devices", definitions.start, definitions.stop)
    host.health_checks["devicesLoaded"] = definitions.loaded.is_set
    app = host.new_app("edgewatch ingest", settings.service.port, sdk_version=SDK_VERSION)
    app.include_router(command_router(commands, lambda: settings.service.max_document_depth))
    app.state.registry = registry  # for tests and introspection only; domain code gets it by constructor
    app.state.definitions = definitions
    return host
