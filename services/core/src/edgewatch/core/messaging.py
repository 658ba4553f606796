"""core on the bus: core-command's listener for ``edgex.core.command.request.<device>.<command>.<get|set>``.

Requests are forwarded to the owning device service (``commands.CommandService``); core-data's event subscriber
lives with its store in ``data/service.py``.

A subscription's messages are handled one after another, so a handler that awaited the device's answer would make
every command wait for the slowest device before it. The handler checks and forwards each request itself, in
arrival order (a device's commands reach its device service in the order they came: one connection keeps the
order), and awaits the answer in a task of its own, at most ``MAX_IN_FLIGHT`` at once (then the subscription
waits: back-pressure, not an unbounded pile of tasks). A command does not wait for the answer to the one before
it: waiting made a device's commands a chain of round trips, which under load (a rule acting on every other
event) queued them for seconds.
"""

from __future__ import annotations

import asyncio
import logging

from nats.aio.msg import Msg

from edgewatch.common.bus.client import BusDecodeError, NatsBus
from edgewatch.common.bus.envelope import MessageEnvelope, decode_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.commanderror import error_text
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.limits import LimitError
from edgewatch.core.command.commands import CommandService, ForwardedCommand

__all__ = ["RESPONDER", "CommandListener"]

log = logging.getLogger(__name__)

RESPONDER = "core-command"
QUEUE = "edgewatch-core-command"
MAX_IN_FLIGHT = 64


class CommandListener:
    """Answers bus command requests on ``edgex.response.core-command.<requestId>``; an error's text starts with
    its HTTP status (``"400 ..."``, commanderror.py), as the REST answer's status."""

    def __init__(self, bus: NatsBus, commands: CommandService) -> None:
        self.bus = bus
        self.commands = commands
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

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
        await self._slots.acquire()
        try:
            fwd = await self.commands.forward(
                device, command, method, dict(env.query_params), env.payload, env.correlation_id
            )
        except EdgeXError as e:
            self._slots.release()
            await self._refuse(env, e)
            return
        except BaseException:
            self._slots.release()
            raise
        task = asyncio.create_task(self._answer(msg, env, fwd))
        task.add_done_callback(lambda _t: self._slots.release())

    async def _answer(self, msg: Msg, env: MessageEnvelope, fwd: ForwardedCommand) -> None:
        try:
            try:
                res = await self.commands.complete(fwd)
            except EdgeXError as e:
                await self._refuse(env, e)
                return
            await edgex_respond(
                self.bus,
                env,
                responder=RESPONDER,
                payload=res.payload,
                content_type=res.content_type,
                fmt=self.bus.settings.format,
            )
        except Exception as e:  # a task's failure would otherwise vanish: count, log and dead-letter as the bus does
            await self.bus.handler_failed(msg, e)

    async def _refuse(self, env: MessageEnvelope, e: EdgeXError) -> None:
        if isinstance(e, LimitError):
            self.bus.metrics.count_limit_refusal(e.limit)
        await edgex_respond(self.bus, env, responder=RESPONDER, error=error_text(e), fmt=self.bus.settings.format)
