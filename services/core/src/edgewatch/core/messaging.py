"""core on the bus: core-command's listener for ``edgex.core.command.request.<device>.<command>.<get|set>``.

Requests are forwarded to the owning device service (``commands.CommandService``); core-data's event subscriber
lives with its store in ``data/service.py``.
"""

from __future__ import annotations

import logging

from nats.aio.msg import Msg

from edgewatch.common.bus.client import BusDecodeError, NatsBus
from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.commanderror import error_text
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.limits import LimitError
from edgewatch.core.command.commands import CommandService

__all__ = ["RESPONDER", "CommandListener"]

log = logging.getLogger(__name__)

RESPONDER = "core-command"
QUEUE = "edgewatch-core-command"


class CommandListener:
    """Answers bus command requests on ``edgex.response.core-command.<requestId>``; an error's text starts with
    its HTTP status (``"400 ..."``, commanderror.py), as the REST answer's status."""

    def __init__(self, bus: NatsBus, commands: CommandService) -> None:
        self.bus = bus
        self.commands = commands

    async def start(self) -> None:
        """Subscribe (queue group: one core replica answers each request)."""
        await self.bus.subscribe(topics.command_request_all(), self._on_request, queue=QUEUE)

    async def _on_request(self, msg: Msg) -> None:
        parts = msg.subject.split(".")
        if len(parts) != 7:
            raise BusDecodeError(f"command subject {msg.subject!r} is not edgex.core.command.request.<d>.<c>.<m>")
        device, command, method = parts[4], parts[5], parts[6]
        env = decode_envelope(msg)
        if not env.request_id:
            raise BusDecodeError("command request without a requestID cannot be answered")
        fmt = self.bus.settings.format
        try:
            res = await self.commands.execute(
                device, command, method, dict(env.query_params), env.payload, env.correlation_id
            )
        except EdgeXError as e:
            if isinstance(e, LimitError):
                self.bus.metrics.count_limit_refusal(e.limit)
            await edgex_respond(self.bus, env, responder=RESPONDER, error=error_text(e), fmt=fmt)
            return
        await edgex_respond(
            self.bus, env, responder=RESPONDER, payload=res.payload, content_type=res.content_type, fmt=fmt
        )
