"""EdgeX ``modbus-tcp`` / ``modbus-rtu`` protocol properties -> a typed endpoint, plus the shared connection pool.

Values may be strings or numbers (EdgeX v3 allows both); ``Timeout`` / ``IdleTimeout`` are seconds or Go
durations; strings may carry ``${VAR}`` / ``${VAR:-default}`` placeholders, expanded from the environment (the
demo device file uses one for the simulator port).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgewatch.common.contracts.device import parse_go_duration
from edgewatch.ingest.drivers.modbus.connection import Endpoint, ModbusConnection
from edgewatch.protocols.errors import ProfileConfigError

__all__ = ["ConnectionPool", "DeviceLink", "expand_env", "parse_link"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str, env: Mapping[str, str] | None = None) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``."""
    src = os.environ if env is None else env
    return _VAR.sub(lambda m: src.get(m.group(1)) or (m.group(2) or ""), text)


@dataclass(frozen=True, slots=True)
class DeviceLink:
    """How one device is reached: endpoint, unit and timing."""

    endpoint: Endpoint
    unit_id: int
    timeout: float
    idle_timeout: float


def _seconds(v: Any, key: str, device: str, default: float) -> float:
    if v is None or v == "":
        return default
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    text = expand_env(str(v)).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_go_duration(text) / 1e9
    except ValueError:
        raise ProfileConfigError(
            f"protocol property {key} {v!r} is not seconds or a Go duration", device=device
        ) from None


def _int(v: Any, key: str, device: str, default: int | None = None) -> int:
    if v is None or v == "":
        if default is None:
            raise ProfileConfigError(f"protocol property {key} is required", device=device)
        return default
    try:
        return int(expand_env(str(v)).strip())
    except ValueError:
        raise ProfileConfigError(f"protocol property {key} {v!r} is not an integer", device=device) from None


def parse_link(device: str, protocols: Mapping[str, Mapping[str, Any]], *, default_timeout: float = 1.0) -> DeviceLink:
    """Parse a device's ``modbus-tcp`` or ``modbus-rtu`` protocol block.

    Raises:
        ProfileConfigError: missing or invalid property (the message names the device and the key).
    """
    if "modbus-tcp" in protocols:
        p = protocols["modbus-tcp"]
        addr = expand_env(str(p.get("Address") or "")).strip()
        if not addr:
            raise ProfileConfigError("protocol property Address is required", device=device)
        port = _int(p.get("Port"), "Port", device, 502)
        if not 0 < port < 65536:
            raise ProfileConfigError(f"protocol property Port {port} outside 1..65535", device=device)
        endpoint = Endpoint("tcp", addr, port)
    elif "modbus-rtu" in protocols:
        p = protocols["modbus-rtu"]
        addr = expand_env(str(p.get("Address") or "")).strip()
        if not addr:
            raise ProfileConfigError("protocol property Address (serial device) is required", device=device)
        parity = str(p.get("Parity") or "N").strip().upper()[:1]
        if parity not in ("N", "E", "O"):
            raise ProfileConfigError(f"protocol property Parity {parity!r} is not N, E or O", device=device)
        endpoint = Endpoint(
            "rtu",
            addr,
            0,
            baudrate=_int(p.get("BaudRate"), "BaudRate", device, 19200),
            data_bits=_int(p.get("DataBits"), "DataBits", device, 8),
            stop_bits=_int(p.get("StopBits"), "StopBits", device, 1),
            parity=parity,
        )
    else:
        raise ProfileConfigError("no modbus-tcp or modbus-rtu protocol", device=device)
    unit = _int(p.get("UnitID"), "UnitID", device, 1)
    if not 0 <= unit <= 247:
        raise ProfileConfigError(f"protocol property UnitID {unit} outside 0..247", device=device)
    timeout = _seconds(p.get("Timeout"), "Timeout", device, default_timeout)
    if timeout <= 0:
        raise ProfileConfigError("protocol property Timeout must be > 0", device=device)
    idle = _seconds(p.get("IdleTimeout"), "IdleTimeout", device, 0.0)
    return DeviceLink(endpoint, unit, timeout, idle)


class ConnectionPool:
    """One :class:`ModbusConnection` per endpoint, reference-counted by the devices using it."""

    def __init__(self, *, backoff_initial: float = 0.1, backoff_max: float = 5.0) -> None:
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connections: dict[Endpoint, ModbusConnection] = {}

    def acquire(self, link: DeviceLink) -> ModbusConnection:
        """The connection for ``link``'s endpoint (created on first use)."""
        conn = self.connections.get(link.endpoint)
        if conn is None:
            conn = ModbusConnection(
                link.endpoint,
                timeout=link.timeout,
                idle_timeout=link.idle_timeout,
                backoff_initial=self.backoff_initial,
                backoff_max=self.backoff_max,
            )
            self.connections[link.endpoint] = conn
        conn.users += 1
        return conn

    async def release(self, conn: ModbusConnection) -> None:
        """Drop one user; the last one closes the connection."""
        conn.users -= 1
        if conn.users <= 0:
            self.connections.pop(conn.endpoint, None)
            await conn.close()

    async def close(self) -> None:
        """Close every connection."""
        for conn in list(self.connections.values()):
            await conn.close()
        self.connections.clear()
