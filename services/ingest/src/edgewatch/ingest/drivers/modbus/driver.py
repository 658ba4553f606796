"""ModbusDriver: one device behind a shared connection; coalesced reads, encoded writes, typed errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.ingest.drivers.modbus.connection import ModbusConnection
from edgewatch.ingest.drivers.modbus.planner import (
    DEFAULT_MAX_GAP_BITS,
    DEFAULT_MAX_GAP_REGISTERS,
    Block,
    Span,
    plan_blocks,
)
from edgewatch.ingest.drivers.modbus.protocol import ConnectionPool, DeviceLink, parse_link
from edgewatch.ingest.errors import DeviceIOError, ModbusExceptionError
from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.modbus.attributes import ModbusAttributes, parse_attributes
from edgewatch.protocols.modbus.codec import decode, encode
from edgewatch.protocols.values import Value

__all__ = ["ModbusDriver", "ModbusOptions", "create_driver", "parse_profile_attributes"]

ILLEGAL_DATA_ADDRESS = 2


@dataclass(slots=True)
class ModbusOptions:
    """Driver tunables (from IngestSettings) and the shared connection pool."""

    pool: ConnectionPool = field(default_factory=ConnectionPool)
    max_gap_registers: int = DEFAULT_MAX_GAP_REGISTERS
    max_gap_bits: int = DEFAULT_MAX_GAP_BITS
    default_timeout: float = 1.0


def parse_profile_attributes(
    profile: DeviceProfile, device: str = ""
) -> tuple[dict[str, ModbusAttributes], dict[str, str]]:
    """Parse every resource's attributes once: (valid attributes, error message per invalid resource)."""
    ok: dict[str, ModbusAttributes] = {}
    bad: dict[str, str] = {}
    for r in profile.device_resources:
        try:
            ok[r.name] = parse_attributes(
                r.attributes, r.properties.value_type, device=device or profile.name, resource=r.name
            )
        except ProfileConfigError as e:
            bad[r.name] = e.message
    return ok, bad


class ModbusDriver:
    """Reads and writes one device's resources through a shared :class:`ModbusConnection`."""

    def __init__(
        self,
        device: str,
        link: DeviceLink,
        attributes: Mapping[str, ModbusAttributes],
        invalid: Mapping[str, str],
        options: ModbusOptions,
    ) -> None:
        self.device = device
        self.link = link
        self.attributes = dict(attributes)
        self.invalid = dict(invalid)
        self.options = options
        self._conn: ModbusConnection | None = None
        self._plans: dict[frozenset[str], list[Block[str]]] = {}
        self._no_bridge: set[frozenset[str]] = set()

    @property
    def connection(self) -> ModbusConnection:
        """The shared connection (after :meth:`connect`)."""
        if self._conn is None:
            self._conn = self.options.pool.acquire(self.link)
        return self._conn

    async def connect(self) -> None:
        """Attach to the endpoint's shared connection (the socket opens lazily on the first request)."""
        _ = self.connection

    async def close(self) -> None:
        """Release the shared connection."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self.options.pool.release(conn)

    def _attrs(self, name: str) -> ModbusAttributes:
        a = self.attributes.get(name)
        if a is None:
            msg = self.invalid.get(name, "not a resource of the device's profile")
            raise ProfileConfigError(msg if name in self.invalid else f"{name}: {msg}", device=self.device)
        return a

    def plan(self, resources: Sequence[str], *, bridge: bool = True) -> list[Block[str]]:
        """The block reads for ``resources`` (cached per resource set)."""
        key = frozenset(resources)
        bridge = bridge and key not in self._no_bridge
        cached = self._plans.get(key) if bridge else None
        if cached is not None:
            return cached
        spans = [Span(n, a.table, a.address, a.count) for n in key for a in (self._attrs(n),)]
        blocks = plan_blocks(
            spans,
            max_gap_registers=self.options.max_gap_registers if bridge else 0,
            max_gap_bits=self.options.max_gap_bits if bridge else 0,
        )
        self._plans[key] = blocks
        return blocks

    async def read(self, resources: Sequence[str]) -> dict[str, Value]:
        """Read resources in coalesced blocks; values are decoded to the value type (transforms not applied).

        A block that bridged unused addresses and was refused with ILLEGAL_DATA_ADDRESS is re-planned without
        bridging, once, and remembered.

        Raises:
            DeviceIOError: timeout, connection failure or Modbus exception (device and address named).
            ProfileConfigError: a resource is unknown or has invalid attributes.
        """
        key = frozenset(resources)
        try:
            return await self._read_blocks(self.plan(resources))
        except ModbusExceptionError as e:
            if e.code != ILLEGAL_DATA_ADDRESS or key in self._no_bridge:
                raise self._named(e) from e
            if not any(b.bridged for b in self._plans.get(key, ())):
                raise self._named(e) from e
            self._no_bridge.add(key)
            self._plans.pop(key, None)
            try:
                return await self._read_blocks(self.plan(resources, bridge=False))
            except DeviceIOError as e2:
                raise self._named(e2) from e2
        except DeviceIOError as e:
            raise self._named(e) from e

    def _named(self, e: DeviceIOError) -> DeviceIOError:
        if e.device:
            return e
        if isinstance(e, ModbusExceptionError):
            return ModbusExceptionError(e.code, device=self.device, resource=e.resource, address=e.address)
        return type(e)(e.message, device=self.device)

    async def _read_blocks(self, blocks: Sequence[Block[str]]) -> dict[str, Value]:
        conn, unit = self.connection, self.link.unit_id
        out: dict[str, Value] = {}
        async with conn.lock:
            raw = [await conn.read_unlocked(unit, b.table, b.address, b.count) for b in blocks]
        for block, words in zip(blocks, raw, strict=True):
            for span in block.spans:
                out[span.key] = decode(self.attributes[span.key], block.slice(words, span))
        return out

    async def write(self, values: Mapping[str, Any]) -> None:
        """Write values (value type, transforms already inverted) in the given order, one request per resource.

        A Bool in a register bit is a read-modify-write under the connection lock.

        Raises:
            DeviceIOError: timeout, connection failure or Modbus exception.
            ProfileConfigError: unknown resource, or a read-only table.
            ValueRangeError: the value does not fit the raw type.
        """
        conn, unit = self.connection, self.link.unit_id
        prepared: list[tuple[ModbusAttributes, Value]] = []
        for name, v in values.items():
            a = self._attrs(name)
            if not a.table.writable:
                raise ProfileConfigError(f"{a.table.value} is read-only", device=self.device, resource=name)
            prepared.append((a, v))
        try:
            async with conn.lock:
                for a, v in prepared:
                    current = None
                    if a.value_type.startswith("Bool") and not a.table.is_bit:
                        current = [int(x) for x in await conn.read_unlocked(unit, a.table, a.address, a.count)]
                    await conn.write_unlocked(unit, a.table, a.address, encode(a, v, current))
        except DeviceIOError as e:
            raise self._named(e) from e


def create_driver(device: Device, profile: DeviceProfile, options: Any) -> ModbusDriver:
    """Driver factory registered for ``modbus-tcp`` and ``modbus-rtu``.

    Raises:
        ProfileConfigError: invalid protocol properties.
    """
    opts = options if isinstance(options, ModbusOptions) else ModbusOptions()
    link = parse_link(device.name, device.protocols, default_timeout=opts.default_timeout)
    ok, bad = parse_profile_attributes(profile, device.name)
    return ModbusDriver(device.name, link, ok, bad, opts)
