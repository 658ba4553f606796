"""core-command domain: list a device's commands; run GET/SET by forwarding to the owning device service."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.devicecommand import CommandMetadata, answer_error, prepare_device_command
from edgewatch.common.bus.metrics import Observe
from edgewatch.common.bus.requestreply import PendingReply, edgex_send
from edgewatch.common.contracts.command import CoreCommand, CoreCommandParameter, DeviceCoreCommand
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile, readable, writable
from edgewatch.core.metadata.stores import MetadataStores

log = logging.getLogger(__name__)

__all__ = ["CommandResult", "CommandService", "ForwardedCommand"]


class CommandResult:
    """What the device service answered: payload bytes and content type (empty body for SET / no event)."""

    def __init__(self, payload: bytes, content_type: str) -> None:
        self.payload = payload
        self.content_type = content_type


class CommandService:
    """Resolves device -> profile -> service and forwards over EdgeX's command topics (never hangs)."""

    def __init__(
        self,
        bus: NatsBus,
        stores: MetadataStores,
        timeout: Callable[[], float],
        base_url: Callable[[], str],
        max_depth: Callable[[], int] = lambda: 32,
        hop: Observe | None = None,
    ) -> None:
        self.bus = bus
        self.hop = hop
        self.stores = stores
        self.timeout = timeout
        self.base_url = base_url
        self.max_depth = max_depth

    def _profile(self, d: Device) -> DeviceProfile | None:
        return self.stores.profiles.find(d.profile_name) if d.profile_name else None

    def core_commands(self, d: Device) -> DeviceCoreCommand:
        """Commands not hidden, then resources not hidden and not shadowed by a command (COMPAT.md section 4)."""
        p = self._profile(d)
        out: list[CoreCommand] = []
        if p is not None:
            by_name = {r.name: r for r in p.device_resources}
            for c in p.device_commands:
                if c.is_hidden:
                    continue
                params = []
                for op in c.resource_operations:
                    res = by_name.get(op.device_resource)
                    if res is not None:
                        params.append(
                            CoreCommandParameter(resource_name=res.name, value_type=res.properties.value_type)
                        )
                out.append(self._cmd(d, c.name, c.read_write, params))
            names = {c.name for c in p.device_commands}
            for r in p.device_resources:
                if r.is_hidden or r.name in names:
                    continue
                param = CoreCommandParameter(resource_name=r.name, value_type=r.properties.value_type)
                out.append(self._cmd(d, r.name, r.properties.read_write, [param]))
        return DeviceCoreCommand(device_name=d.name, profile_name=d.profile_name, core_commands=out)

    def _cmd(self, d: Device, name: str, rw: str, params: list[CoreCommandParameter]) -> CoreCommand:
        path = f"/api/v3/device/name/{quote(d.name, safe='')}/{quote(name, safe='')}"
        return CoreCommand(
            name=name, get=readable(rw), set=writable(rw), path=path, url=self.base_url(), parameters=params
        )

    def _metadata(self) -> CommandMetadata:
        return CommandMetadata(self.stores.devices.get, self.stores.profiles.find, self.stores.services.find)

    async def execute(
        self,
        device_name: str,
        command: str,
        method: str,
        query: dict[str, str],
        body: bytes = b"",
        correlation_id: str = "",
    ) -> CommandResult:
        """Run one command: :meth:`forward` it, then :meth:`complete` it.

        Raises:
            NotFoundError, LockedError, EdgeXError(405), ContractInvalidError, ServiceUnavailableError (timeout),
            EdgeXError with the kind the device service answered (502 when it names none).
        """
        return await self.complete(await self.forward(device_name, command, method, query, body, correlation_id))

    async def forward(
        self,
        device_name: str,
        command: str,
        method: str,
        query: dict[str, str],
        body: bytes = b"",
        correlation_id: str = "",
    ) -> ForwardedCommand:
        """Check one command and send it to the owning device service; returns without waiting for the answer, so
        commands forwarded one after another reach the device service in that order.

        Raises:
            NotFoundError, LockedError, EdgeXError(405), ContractInvalidError, ServiceUnavailableError (no
            responder, or the device cannot be addressed on the bus).
        """
        cmd = prepare_device_command(
            self._metadata(), device_name, command, method, query, body, correlation_id, self.max_depth()
        )
        d, env, method = cmd.device, cmd.envelope, method.lower()
        t0 = time.perf_counter()
        pending = await edgex_send(self.bus, cmd.subject, env, responder=d.service_name, fmt=self.bus.settings.format)
        return ForwardedCommand(d, command, method, env.correlation_id, pending, t0)

    async def complete(self, fwd: ForwardedCommand) -> CommandResult:
        """The device service's answer to a forwarded command.

        Raises:
            ServiceUnavailableError (no answer within ``Service.RequestTimeout``), EdgeXError with the kind the
            device service answered (502 when it names none).
        """
        d, command, method = fwd.device, fwd.command, fwd.method
        reply = await fwd.pending.answer(self.timeout())
        took = time.perf_counter() - fwd.sent
        if self.hop is not None:
            self.hop(took)
        log.info(
            "command forwarded",
            extra={
                "device": d.name,
                "command": command,
                "method": method,
                "correlationId": fwd.correlation_id,
                "errorCode": reply.error_code,
                "ms": round(took * 1e3, 3),
            },
        )
        if reply.error_code:
            raise answer_error(d, command, method, reply)
        return CommandResult(reply.payload, reply.content_type)


@dataclass(frozen=True)
class ForwardedCommand:
    """A command on its way to the device service (:meth:`CommandService.forward`)."""

    device: Device
    command: str
    method: str
    correlation_id: str
    pending: PendingReply
    sent: float  # perf_counter when it was sent
