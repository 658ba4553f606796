"""Profile-driven Modbus simulator: a real pymodbus server laid out from an EdgeX device profile.

TCP, or RTU on a serial/pty path; registers are laid out and encoded with the codec the ingest driver uses
(edgewatch.protocols.modbus).

Used by tests, the benchmark and the demo: ``await start_modbus_sim(profile, port=0)`` returns a running
:class:`ModbusSim` with ``.port``, ``.set_value()``, ``.get_value()``, ``.stop()``, ``.restart()`` (same port),
``.unresponsive`` (answer nothing: a hung device) and ``.exception_code`` (answer every request with that Modbus
exception). ``python -m edgewatch.sim.modbus --profile <file> --port <p> [--demo-pump]`` runs one standalone
(see ``__main__``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.values import parse_value
from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.common.contracts.yamlcompat import load_profile_yaml
from edgewatch.protocols.modbus.attributes import ModbusAttributes, Table, parse_attributes
from edgewatch.protocols.modbus.codec import decode, encode
from edgewatch.protocols.transform import Transform
from edgewatch.protocols.values import Value

__all__ = ["Dynamics", "ModbusSim", "SimResource", "load_profile", "start_modbus_sim"]

log = logging.getLogger(__name__)

Dynamics = Callable[["ModbusSim", float], Awaitable[None] | None]
_FC_TABLE = {
    1: Table.COILS,
    5: Table.COILS,
    15: Table.COILS,
    2: Table.DISCRETE_INPUTS,
    3: Table.HOLDING_REGISTERS,
    6: Table.HOLDING_REGISTERS,
    16: Table.HOLDING_REGISTERS,
    22: Table.HOLDING_REGISTERS,
    23: Table.HOLDING_REGISTERS,
    4: Table.INPUT_REGISTERS,
}
_WRITE_FCS = frozenset((5, 6, 15, 16, 22, 23))


@dataclass(frozen=True, slots=True)
class SimResource:
    """One profile resource as the simulator lays it out."""

    name: str
    attrs: ModbusAttributes
    transform: Transform
    value_type: ValueType
    default: str


def load_profile(profile: DeviceProfile | Mapping[str, Any] | str | Path) -> DeviceProfile:
    """A DeviceProfile from a model, a dict, a YAML path or YAML text."""
    if isinstance(profile, DeviceProfile):
        return profile
    if isinstance(profile, Mapping):
        return DeviceProfile.model_validate(dict(profile))
    path = Path(profile)
    if isinstance(profile, Path) or ("\n" not in str(profile) and path.is_file()):
        return load_profile_yaml(path.read_text(encoding="utf-8"))
    return load_profile_yaml(str(profile))


class _Memory:
    """The four tables of one unit: plain lists, 65536 entries each (addresses are 0-based)."""

    def __init__(self) -> None:
        self.bits: dict[Table, list[bool]] = {t: [False] * 65536 for t in (Table.COILS, Table.DISCRETE_INPUTS)}
        self.regs: dict[Table, list[int]] = {t: [0] * 65536 for t in (Table.INPUT_REGISTERS, Table.HOLDING_REGISTERS)}

    def read(self, table: Table, address: int, count: int) -> list[int] | list[bool]:
        if table.is_bit:
            return self.bits[table][address : address + count]
        return self.regs[table][address : address + count]

    def write(self, table: Table, address: int, values: Sequence[int] | Sequence[bool]) -> None:
        if table.is_bit:
            self.bits[table][address : address + len(values)] = [bool(v) for v in values]
        else:
            self.regs[table][address : address + len(values)] = [int(v) & 0xFFFF for v in values]


class _SimContext(ModbusServerContext):
    """pymodbus datastore hook: every request is answered from the simulator's memory (or refused)."""

    def __init__(self, sim: ModbusSim) -> None:  # deliberately not calling super(): no default device blocks
        self._sim = sim
        self.old_simulator = True
        self.simdevices = []

    def device_ids(self) -> list[int]:
        return list(self._sim.units)

    def _check(self, device_id: int, func_code: int, address: int, count: int) -> Table | ExcCodes:
        sim = self._sim
        if sim.unresponsive or device_id not in sim.units:
            raise NoSuchIdException(f"unit {device_id} does not answer")
        sim.requests[func_code] += 1
        if sim.exception_code is not None:
            return ExcCodes(sim.exception_code)
        table = _FC_TABLE.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if address < 0 or address + count > 65536 or not sim.is_valid(table, address, count):
            return ExcCodes.ILLEGAL_ADDRESS
        return table

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        table = self._check(device_id, func_code, address, count)
        if isinstance(table, ExcCodes):
            return table
        return self._sim.units[device_id].read(table, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: Sequence[int] | Sequence[bool]
    ) -> ExcCodes | None:
        table = self._check(device_id, func_code, address, len(values))
        if isinstance(table, ExcCodes):
            return table
        self._sim.units[device_id].write(table, address, values)
        self._sim.note_write(device_id, table, address, len(values))
        return None


class ModbusSim:
    """A running simulator; build it with :func:`start_modbus_sim`."""

    def __init__(
        self,
        profile: DeviceProfile,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_ids: Iterable[int] = (1,),
        strict: bool = False,
        serial_port: str = "",
        baudrate: int = 115200,
    ) -> None:
        self.profile = profile
        self.host = host
        self.port = port
        self.serial_port = serial_port
        self.baudrate = baudrate
        self.strict = strict
        self.resources: dict[str, SimResource] = {}
        for r in profile.device_resources:
            vt = ValueType(r.properties.value_type)
            attrs = parse_attributes(r.attributes, vt.value, device=profile.name, resource=r.name)
            self.resources[r.name] = SimResource(
                r.name, attrs, Transform.from_properties(vt.value, r.properties), vt, r.properties.default_value
            )
        self.units: dict[int, _Memory] = {u: _Memory() for u in unit_ids}
        self.unresponsive = False
        self.exception_code: int | None = None
        self.requests: Counter[int] = Counter()
        self.writes: list[tuple[int, str]] = []
        self.on_write: list[Callable[[int, str], None]] = []
        self._valid = self._valid_ranges()
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._dynamics_task: asyncio.Task[None] | None = None

    # --- layout ---------------------------------------------------------------------------------------------

    def _valid_ranges(self) -> dict[Table, set[int]]:
        valid: dict[Table, set[int]] = {t: set() for t in Table}
        for r in self.resources.values():
            valid[r.attrs.table].update(range(r.attrs.address, r.attrs.end))
        return valid

    def is_valid(self, table: Table, address: int, count: int) -> bool:
        """True when every address is defined (always, unless the simulator is strict)."""
        if not self.strict:
            return True
        v = self._valid[table]
        return all(a in v for a in range(address, address + count))

    def refuse(self, resource: str) -> None:
        """Answer ILLEGAL_DATA_ADDRESS for every register of ``resource`` from now on (the simulator turns strict)."""
        a = self.resources[resource].attrs
        self.strict = True
        self._valid[a.table].difference_update(range(a.address, a.end))

    def note_write(self, unit: int, table: Table, address: int, count: int) -> None:
        """Record which resources a client write touched and run the write hooks."""
        for r in self.resources.values():
            a = r.attrs
            if a.table is table and a.address < address + count and address < a.end:
                self.writes.append((unit, r.name))
                for cb in self.on_write:
                    cb(unit, r.name)

    def _unit(self, unit: int | None) -> tuple[int, _Memory]:
        u = next(iter(self.units)) if unit is None else unit
        return u, self.units[u]

    # --- values ---------------------------------------------------------------------------------------------

    def set_value(self, resource: str, value: Value | str, unit: int | None = None) -> None:
        """Store an engineering value (a value string is parsed first), encoded exactly as a device would.

        Raises:
            KeyError: unknown resource.
            ValueRangeError: the value does not fit.
        """
        r = self.resources[resource]
        if isinstance(value, str) and r.value_type not in (ValueType.STRING,):
            value = parse_value(r.value_type, value)
        raw = r.transform.write(value, limits=False)
        _, mem = self._unit(unit)
        current = mem.read(r.attrs.table, r.attrs.address, r.attrs.count)
        mem.write(r.attrs.table, r.attrs.address, encode(r.attrs, raw, [int(x) for x in current]))

    def get_value(self, resource: str, unit: int | None = None) -> Value:
        """The engineering value a correct client reads for ``resource`` now (read transform applied)."""
        r = self.resources[resource]
        _, mem = self._unit(unit)
        return r.transform.read(decode(r.attrs, mem.read(r.attrs.table, r.attrs.address, r.attrs.count)))

    def seed(self, values: Mapping[str, Value | str] | None = None) -> None:
        """Seed every unit from each resource's defaultValue, then from ``values``."""
        for unit in self.units:
            for r in self.resources.values():
                if r.default:
                    self.set_value(r.name, r.default, unit)
            for name, v in (values or {}).items():
                self.set_value(name, v, unit)

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        ctx = _SimContext(self)
        if self.serial_port:
            self._server = ModbusSerialServer(
                ctx,
                framer=FramerType.RTU,
                port=self.serial_port,
                baudrate=self.baudrate,
                ignore_missing_devices=True,
            )
        else:
            self._server = ModbusTcpServer(ctx, address=(self.host, self.port), ignore_missing_devices=True)
        await self._server.serve_forever(background=True)
        if not self.serial_port:
            listener: Any = self._server.transport  # an asyncio.Server for TCP
            self.port = int(listener.sockets[0].getsockname()[1])

    async def start(self, dynamics: Dynamics | None = None, period: float = 0.1) -> None:
        """Start serving (and the dynamics loop when given)."""
        await self._listen()
        if dynamics is not None:
            self._dynamics_task = asyncio.create_task(self._run_dynamics(dynamics, period))

    async def _run_dynamics(self, dynamics: Dynamics, period: float) -> None:
        t0 = time.monotonic()
        while True:
            try:
                res = dynamics(self, time.monotonic() - t0)
                if inspect.isawaitable(res):
                    await res
            except Exception:
                log.exception("simulator dynamics failed")
            await asyncio.sleep(period)

    async def stop(self, *, dynamics: bool = False) -> None:
        """Stop serving and drop every client connection (memory is kept for :meth:`restart`)."""
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None
        if dynamics and self._dynamics_task is not None:
            self._dynamics_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dynamics_task
            self._dynamics_task = None

    async def restart(self) -> None:
        """Serve again on the same port (or serial path) with the same memory."""
        await self.stop()
        await self._listen()

    async def close(self) -> None:
        """Stop everything, dynamics included."""
        await self.stop(dynamics=True)

    @property
    def running(self) -> bool:
        """True while serving."""
        return self._server is not None

    async def __aenter__(self) -> ModbusSim:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_modbus_sim(
    profile: DeviceProfile | Mapping[str, Any] | str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    unit_id: int = 1,
    values: Mapping[str, Value | str] | None = None,
    *,
    unit_ids: Iterable[int] | None = None,
    strict: bool = False,
    serial_port: str = "",
    dynamics: Dynamics | None = None,
    dynamics_period: float = 0.1,
) -> ModbusSim:
    """Build, seed and start a simulator for ``profile``; ``port=0`` picks a free port (see ``.port``)."""
    sim = ModbusSim(
        load_profile(profile),
        host=host,
        port=port,
        unit_ids=unit_ids or (unit_id,),
        strict=strict,
        serial_port=serial_port,
    )
    sim.seed(values)
    await sim.start(dynamics, dynamics_period)
    return sim
