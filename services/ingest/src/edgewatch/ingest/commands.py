"""Device commands (GET / SET), shared by the REST API and the bus: EdgeX device-SDK semantics.

GET reads the command's resources (one coalesced read), applies transforms and mappings and returns an Event
(optionally also published: ``ds-pushevent``). SET parses the flat settings map, checks minimum/maximum,
inverts transforms and writes. Device failures surface as typed errors (503 timeout/unreachable, 502 Modbus
exception) and are counted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.event import Event
from edgewatch.ingest.errors import DeviceIOError
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.registry import DeviceRegistry

__all__ = ["CommandService"]


class CommandService:
    """Executes GET / SET commands against the registry's devices."""

    def __init__(
        self,
        registry: DeviceRegistry,
        publish: Callable[[Event], Awaitable[None]],
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.registry = registry
        self.publish = publish
        self.metrics = metrics

    def _count(self, method: str, status: int, device: str, err: Exception | None = None) -> None:
        if self.metrics is None:
            return
        self.metrics.commands.labels(method, str(status)).inc()
        if isinstance(err, DeviceIOError):
            self.metrics.error(device, type(err).__name__)

    async def get(self, device: str, command: str, *, push_event: bool = False, regex: bool = True) -> Event:
        """Read a command or resource now.

        Raises:
            EdgeXError: 404 unknown device/command, 405 not readable, 423 LOCKED/DOWN, 502/503 device failure,
                500 transform overflow.
        """
        try:
            rt = self.registry.runtime(device)
            ops = rt.resolve(command, "get", regex=regex)
            got = await rt.read([op.resource for op in ops])
            if got.errors:  # a transform overflow, or a resource the device refused (the error names it)
                raise next(iter(got.errors.values()))
            event = rt.event(command, {op.resource: got.values[op.resource] for op in ops}, ops, got.samples)
            if event is None:  # pragma: no cover - resolve() guarantees at least one operation
                raise EdgeXError("command produced no reading")
        except EdgeXError as e:
            self._count("get", e.status, device, e)
            raise
        if push_event:
            await self.publish(event)
        self._count("get", 200, device)
        return event

    async def set(self, device: str, command: str, settings: Mapping[str, Any]) -> None:
        """Write a command or resource.

        Raises:
            EdgeXError: 400 bad value / out of range, 404, 405, 423, 502/503 device failure.
        """
        try:
            rt = self.registry.runtime(device)
            ops = rt.resolve(command, "set")
            values = rt.settings_to_values(ops, settings)
            await rt.driver.write(values)
        except EdgeXError as e:
            self._count("set", e.status, device, e)
            raise
        self._count("set", 200, device)
