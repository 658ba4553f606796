"""One Modbus connection per physical endpoint (TCP host:port or serial line), shared by every unit behind it.

A single ``asyncio.Lock`` keeps one request in flight per connection (Modbus TCP devices and RTU lines are not
pipelined in practice). Failed connects back off exponentially (fail fast in between, so a dead device costs no
network time); a timed-out request closes the connection so a late answer cannot be mistaken for the next one;
an idle connection closes after IdleTimeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from edgewatch.ingest.errors import DeviceConnectError, DeviceTimeoutError, ModbusExceptionError
from edgewatch.protocols.modbus.attributes import Table

__all__ = ["Endpoint", "IOStats", "ModbusConnection"]

log = logging.getLogger(__name__)

# pymodbus logs every timeout at ERROR with a frame dump; the driver raises typed errors and counts them instead.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a device is reached; devices with equal endpoints share one connection."""

    kind: Literal["tcp", "rtu"]
    address: str
    port: int = 502
    baudrate: int = 19200
    data_bits: int = 8
    stop_bits: int = 1
    parity: str = "N"

    def __str__(self) -> str:
        return f"{self.address}:{self.port}" if self.kind == "tcp" else f"{self.address}@{self.baudrate}"


@dataclass(slots=True)
class IOStats:
    """Counters of one connection (exported as metrics by the service)."""

    requests: int = 0
    timeouts: int = 0
    exceptions: int = 0
    connects: int = 0
    connect_failures: int = 0


class ModbusConnection:
    """A locked, self-reconnecting pymodbus client for one endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout: float = 1.0,
        idle_timeout: float = 0.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.idle_timeout = idle_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.lock = asyncio.Lock()
        self.stats = IOStats()
        self.users = 0
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._idle_handle: asyncio.TimerHandle | None = None

    @property
    def is_open(self) -> bool:
        """True while a socket / serial port is open."""
        return self._client is not None and bool(self._client.connected)

    def _new_client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        ep = self.endpoint
        if ep.kind == "tcp":
            return AsyncModbusTcpClient(
                ep.address, port=ep.port, timeout=self.timeout, retries=0, reconnect_delay=0, name=str(ep)
            )
        return AsyncModbusSerialClient(
            ep.address,
            framer=FramerType.RTU,
            baudrate=ep.baudrate,
            bytesize=ep.data_bits,
            stopbits=ep.stop_bits,
            parity=ep.parity,
            timeout=self.timeout,
            retries=0,
            reconnect_delay=0,
            name=str(ep),
        )

    async def _ensure(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        client = self._client
        if client is not None and client.connected:
            return client
        self._drop()
        now = time.monotonic()
        if now < self._next_attempt:
            raise DeviceConnectError(
                f"reconnect backoff, next attempt in {self._next_attempt - now:.2f}s", address=str(self.endpoint)
            )
        client = self._new_client()
        try:
            ok = await client.connect()
        except Exception as e:  # pyserial raises on a missing device path
            log.debug("connect failed", extra={"endpoint": str(self.endpoint), "error": repr(e)})
            ok = False
        if not ok:
            client.close()
            self.stats.connect_failures += 1
            self._backoff = min(self.backoff_max, self._backoff * 2 if self._backoff else self.backoff_initial)
            self._next_attempt = time.monotonic() + self._backoff
            raise DeviceConnectError("cannot connect", address=str(self.endpoint))
        self.stats.connects += 1
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def _touch(self) -> None:
        if self.idle_timeout <= 0:
            return
        if self._idle_handle is not None:
            self._idle_handle.cancel()
        self._idle_handle = asyncio.get_running_loop().call_later(self.idle_timeout, self._on_idle)

    def _on_idle(self) -> None:
        if not self.lock.locked():
            self._drop()

    async def _call(self, what: str, coro_fn: Any, *args: Any, **kwargs: Any) -> Any:
        client = await self._ensure()
        self.stats.requests += 1
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that races with
            # the answer, which would keep a stopped poll task alive.
            async with asyncio.timeout(self.timeout * 2 + 0.5):
                resp = await getattr(client, coro_fn)(*args, **kwargs)
        except (ModbusIOException, TimeoutError) as e:
            self.stats.timeouts += 1
            self._drop()
            raise DeviceTimeoutError(f"no answer within {self.timeout:g}s to {what}", address=str(self.endpoint)) from e
        except ConnectionException as e:
            self._drop()
            raise DeviceConnectError(f"connection lost during {what}", address=str(self.endpoint)) from e
        except ModbusException as e:
            self._drop()
            raise DeviceConnectError(f"{what} failed: {e}", address=str(self.endpoint)) from e
        finally:
            self._touch()
        if resp.isError():
            self.stats.exceptions += 1
            raise ModbusExceptionError(int(getattr(resp, "exception_code", 0)), address=f"{self.endpoint} {what}")
        return resp

    async def read_unlocked(self, unit: int, table: Table, address: int, count: int) -> list[int] | list[bool]:
        """Read ``count`` registers/bits; the caller holds :attr:`lock`.

        Raises:
            DeviceIOError: timeout, connection failure or a Modbus exception response.
        """
        what = f"read {table.value}[{address}:{address + count}] unit {unit}"
        if table is Table.COILS:
            resp = await self._call(what, "read_coils", address, count=count, device_id=unit)
        elif table is Table.DISCRETE_INPUTS:
            resp = await self._call(what, "read_discrete_inputs", address, count=count, device_id=unit)
        elif table is Table.HOLDING_REGISTERS:
            resp = await self._call(what, "read_holding_registers", address, count=count, device_id=unit)
        else:
            resp = await self._call(what, "read_input_registers", address, count=count, device_id=unit)
        if table.is_bit:
            return [bool(b) for b in resp.bits[:count]]
        return list(resp.registers[:count])

    async def write_unlocked(
        self, unit: int, table: Table, address: int, values: Sequence[int] | Sequence[bool]
    ) -> None:
        """Write registers (FC 6/16) or coils (FC 5/15); the caller holds :attr:`lock`.

        Raises:
            DeviceIOError: timeout, connection failure or a Modbus exception response.
        """
        what = f"write {table.value}[{address}:{address + len(values)}] unit {unit}"
        if table is Table.COILS:
            if len(values) == 1:
                await self._call(what, "write_coil", address, bool(values[0]), device_id=unit)
            else:
                await self._call(what, "write_coils", address, [bool(v) for v in values], device_id=unit)
        elif table is Table.HOLDING_REGISTERS:
            if len(values) == 1:
                await self._call(what, "write_register", address, int(values[0]), device_id=unit)
            else:
                await self._call(what, "write_registers", address, [int(v) for v in values], device_id=unit)
        else:
            raise ModbusExceptionError(1, address=f"{table.value} is read-only")

    async def read(self, unit: int, table: Table, address: int, count: int) -> list[int] | list[bool]:
        """Locked :meth:`read_unlocked`."""
        async with self.lock:
            return await self.read_unlocked(unit, table, address, count)

    async def write(self, unit: int, table: Table, address: int, values: Sequence[int] | Sequence[bool]) -> None:
        """Locked :meth:`write_unlocked`."""
        async with self.lock:
            await self.write_unlocked(unit, table, address, values)

    async def close(self) -> None:
        """Close the connection now (a request in flight fails; a later request reconnects)."""
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        self._drop()
