"""The suite's documented ports: the one source every default port is read from.

Each service's ``config.py`` takes its default from here, ``edgewatch up`` (``edgewatch.suite.layout.Ports``)
lays out the suite from here, and ``res/configuration.yaml`` files do not repeat them (set ``Service.Port`` there,
or ``SERVICE_PORT``, only to override). The core ports are EdgeX's own defaults, so EdgeX clients find them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "CONSOLE",
    "CORE_COMMAND",
    "CORE_DATA",
    "CORE_METADATA",
    "DEFAULTS",
    "FEATURES",
    "INFERENCE",
    "INGEST",
    "MODBUS_SIM",
    "MQTT",
    "NATS",
    "NATS_MONITOR",
    "OPCUA_SIM",
    "RECEIVER",
    "RULES",
    "SYNC",
]

NATS: Final = 4222
NATS_MONITOR: Final = 8222
CORE_DATA: Final = 59880
CORE_METADATA: Final = 59881
CORE_COMMAND: Final = 59882
INGEST: Final = 59900
FEATURES: Final = 59910
INFERENCE: Final = 59920
RULES: Final = 59930
SYNC: Final = 59940
RECEIVER: Final = 59950
MODBUS_SIM: Final = 5020
MQTT: Final = 1883
"""nats-server's MQTT listener, only with ``edgewatch up --mqtt`` (EdgeX's default MQTT bus port)."""
OPCUA_SIM: Final = 4841  # beside OPC UA's registered 4840, which a real server on the gateway may hold
CONSOLE: Final = 59960
"""The operator web console (``python -m edgewatch.console``)."""

DEFAULTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "nats": NATS,
        "nats_monitor": NATS_MONITOR,
        "core_data": CORE_DATA,
        "core_metadata": CORE_METADATA,
        "core_command": CORE_COMMAND,
        "ingest": INGEST,
        "features": FEATURES,
        "inference": INFERENCE,
        "rules": RULES,
        "sync": SYNC,
        "receiver": RECEIVER,
        "modbus_sim": MODBUS_SIM,
        "mqtt": MQTT,
        "opcua_sim": OPCUA_SIM,
        "console": CONSOLE,
    }
)
"""Port name (as ``edgewatch up --ports name=port`` spells it) -> default port."""
