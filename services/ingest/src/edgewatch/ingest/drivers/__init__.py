"""Protocol drivers, imported lazily by name so a missing optional dependency only matters when it is used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Final

from edgewatch.ingest.drivers.base import Driver, DriverFactory, PollingDriver, PushSink, Sample, SubscribingDriver

__all__ = [
    "DRIVERS",
    "Driver",
    "DriverFactory",
    "PollingDriver",
    "PushSink",
    "Sample",
    "SubscribingDriver",
    "driver_for",
    "load_factory",
]

#: protocol name (a key of Device.protocols) -> "module:factory"
DRIVERS: Final[dict[str, str]] = {
    "modbus-tcp": "edgewatch.ingest.drivers.modbus.driver:create_driver",
    "modbus-rtu": "edgewatch.ingest.drivers.modbus.driver:create_driver",
    "opcua": "edgewatch.ingest.drivers.opcua.driver:create_driver",
    "ethercat": "edgewatch.ingest.drivers.ethercat.driver:create_driver",
}


def driver_for(protocols: Mapping[str, object]) -> str | None:
    """The first protocol of a device that a driver is registered for."""
    return next((p for p in protocols if p in DRIVERS), None)


def load_factory(protocol: str) -> DriverFactory:
    """Import the factory of ``protocol``.

    Raises:
        KeyError: no driver for the protocol.
        ImportError: the driver's optional dependency is missing.
    """
    module, _, attr = DRIVERS[protocol].partition(":")
    factory: DriverFactory = getattr(importlib.import_module(module), attr)
    return factory
