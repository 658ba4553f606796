"""Bus side of the device service (EdgeX messaging controller).

Event publishing, command requests, device validation and metadata system events. Parsing and answering only;
the work happens in commands / registry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg
from pydantic import ValidationError

from edgewatch.common.bus.client import BusDecodeError, NatsBus
from edgewatch.common.bus.envelope import (
    CONTENT_JSON,
    H_API_VERSION,
    H_CONTENT_TYPE,
    H_CORRELATION_ID,
    H_ERROR_CODE,
    H_REQUEST_ID,
    Format,
    decode_envelope,
    encode_envelope,
    new_envelope,
)
from edgewatch.common.bus.metrics import Observe
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.commanderror import error_text
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError
from edgewatch.common.contracts.event import AddEventRequest, Event, EventResponse
from edgewatch.common.contracts.ids import request_id_for
from edgewatch.common.contracts.limits import LimitError, check_json_depth
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.systemevent import SystemEvent
from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.registry import DeviceRegistry

__all__ = ["EventPublisher", "Messaging"]

log = logging.getLogger(__name__)

MAX_COMMANDS_IN_FLIGHT = 64


class EventPublisher:
    """Publishes device events on ``edgex.events.device.<service>.<profile>.<device>.<source>``."""

    def __init__(self, bus: NatsBus, service: str, fmt: Format = "nats") -> None:
        self.bus = bus
        self.service = service
        self.fmt = fmt

    async def __call__(self, event: Event) -> None:
        """Publish one event as an EdgeX MessageEnvelope carrying an AddEventRequest."""
        subject = topics.device_event(self.service, event.profile_name, event.device_name, event.source_name)
        env = new_envelope(AddEventRequest.of(event, request_id_for(event.id)).to_json())
        body, headers = encode_envelope(env, self.fmt)
        await self.bus.publish(subject, body, headers, kind="event")

    def publish_encoded(self, subject: str, body: bytes, event_id: str) -> Awaitable[None]:
        """Publish a ready AddEventRequest JSON body (the subscriber's one-reading events). In the ``nats`` format
        the envelope headers are written directly, with derived ids: RequestId is the body's requestId and the
        correlation id is the event id (both unique per event, like every id ingest derives: contracts.ids)."""
        if self.fmt != "nats":
            payload, headers = encode_envelope(new_envelope(body), self.fmt)
            return self.bus.publish(subject, payload, headers, kind="event")
        headers = {
            H_CORRELATION_ID: event_id,
            H_CONTENT_TYPE: CONTENT_JSON,
            H_REQUEST_ID: request_id_for(event_id),
            H_API_VERSION: "v3",
            H_ERROR_CODE: "0",
        }
        return self.bus.publish(subject, body, headers, kind="event")


def _flag(params: dict[str, str], key: str, default: bool) -> bool:
    v = params.get(key)
    if v is None or v == "":
        return default
    return v.strip().lower() in ("true", "yes")


class Messaging:
    """Subscriptions of the device service."""

    def __init__(
        self,
        bus: NatsBus,
        service: str,
        commands: CommandService,
        registry: DeviceRegistry,
        fmt: Format = "nats",
        on_system_event: Callable[[SystemEvent], Awaitable[None]] | None = None,
        max_depth: Callable[[], int] = lambda: 32,
        command_hop: Observe | None = None,
    ) -> None:
        self.bus = bus
        self.max_depth = max_depth
        self.command_hop = command_hop
        self.service = service
        self.commands = commands
        self.registry = registry
        self.fmt = fmt
        self.on_system_event = on_system_event
        self._command_slots = asyncio.Semaphore(MAX_COMMANDS_IN_FLIGHT)
        self._command_tails: dict[str, asyncio.Task[None]] = {}  # the last command queued per device

    async def start(self) -> None:
        """Subscribe to command requests, device validation and (when wired) system events."""
        await self.bus.subscribe(topics.device_command_request_all(self.service), self._command)
        await self.bus.subscribe(topics.device_validation(self.service), self._validate)
        if self.on_system_event is not None:
            await self.bus.subscribe(topics.system_events_for_service(self.service), self._system_event)
            await self.bus.subscribe(topics.system_events_for_type("deviceprofile"), self._system_event)

    async def _command(self, msg: Msg) -> None:
        """Answer in a task of its own, in order per device, at most MAX_COMMANDS_IN_FLIGHT at once: the
        subscription runs its messages one after another, so a device that answers slowly (a Modbus timeout) would
        otherwise hold every other device's commands."""
        parts = msg.subject.split(".")
        if len(parts) != 8:  # malformed: answered (400) and dead-lettered right here
            await self._timed_command(msg)
            return
        device = parts[5]
        await self._command_slots.acquire()
        prev = self._command_tails.get(device)
        task = asyncio.create_task(self._command_after(prev, msg))
        self._command_tails[device] = task

        def done(t: asyncio.Task[None]) -> None:
            self._command_slots.release()
            if self._command_tails.get(device) is t:
                del self._command_tails[device]

        task.add_done_callback(done)

    async def _command_after(self, prev: asyncio.Task[None] | None, msg: Msg) -> None:
        if prev is not None:
            await asyncio.wait([prev])
        try:
            await self._timed_command(msg)
        except Exception as e:  # as the bus's subscription wrapper does: count, log, dead-letter
            await self.bus.handler_failed(msg, e)

    async def _timed_command(self, msg: Msg) -> None:
        t0 = time.perf_counter()
        try:
            await self._answer_command(msg)
        finally:
            took = time.perf_counter() - t0
            if self.command_hop is not None:
                self.command_hop(took)
            cid = msg.headers.get(H_CORRELATION_ID, "") if msg.headers else ""
            log.info(
                "command answered", extra={"subject": msg.subject, "correlationId": cid, "ms": round(took * 1e3, 3)}
            )

    async def _answer_command(self, msg: Msg) -> None:
        env = decode_envelope(msg)
        parts = msg.subject.split(".")
        # edgex.device.command.request.<service>.<device>.<command>.<method>
        if len(parts) != 8:
            raise BusDecodeError(f"command subject {msg.subject!r} has {len(parts)} tokens, expected 8")
        device, command, method = parts[5], parts[6], parts[7].lower()
        try:
            if method == "get":
                push = _flag(env.query_params, "ds-pushevent", False)
                ret = _flag(env.query_params, "ds-returnevent", True)
                regex = _flag(env.query_params, "ds-regexcmd", True)
                event = await self.commands.get(device, command, push_event=push, regex=regex)
                payload = EventResponse(event=event).to_json() if ret else b""
                await edgex_respond(self.bus, env, responder=self.service, payload=payload, fmt=self.fmt)
            elif method == "set":
                check_json_depth(env.payload, self.max_depth(), "payload")
                try:
                    settings: Any = json.loads(env.payload) if env.payload else {}
                except ValueError as e:
                    raise BusDecodeError(f"SET payload is not JSON: {e}") from e
                if not isinstance(settings, dict):
                    raise EdgeXError("SET payload must be a JSON object of resource values")
                await self.commands.set(device, command, settings)
                await edgex_respond(self.bus, env, responder=self.service, fmt=self.fmt)
            else:
                raise EdgeXError(f"method {method!r} is not get or set")
        except BusDecodeError as e:
            text = error_text(ContractInvalidError(str(e)))  # a malformed request is the caller's error: 400
            await edgex_respond(self.bus, env, responder=self.service, error=text, fmt=self.fmt)
            raise
        except EdgeXError as e:
            if isinstance(e, LimitError):
                self.bus.metrics.count_limit_refusal(e.limit)
            await edgex_respond(self.bus, env, responder=self.service, error=error_text(e), fmt=self.fmt)

    async def _validate(self, msg: Msg) -> None:
        env = decode_envelope(msg)
        try:
            doc = env.payload_json()
            body = doc.get("device", doc) if isinstance(doc, dict) else doc
            device = Device.model_validate(body)
            self.registry.validate(device)
        except (ValidationError, EdgeXError, KeyError, ImportError, AttributeError) as e:
            text = e.message if isinstance(e, EdgeXError) else str(e)
            await edgex_respond(self.bus, env, responder=self.service, error=text, fmt=self.fmt)
            return
        await edgex_respond(self.bus, env, responder=self.service, fmt=self.fmt)

    async def _system_event(self, msg: Msg) -> None:
        env = decode_envelope(msg)
        try:
            event = SystemEvent.model_validate(env.payload_json())
        except ValidationError as e:
            raise BusDecodeError(f"not a SystemEvent: {e}") from e
        if self.on_system_event is not None:
            await self.on_system_event(event)


def parse_details(event: SystemEvent) -> Device | DeviceProfile | None:
    """The DTO carried by a device or deviceprofile system event."""
    try:
        if event.type == "device":
            return Device.model_validate(event.details)
        if event.type == "deviceprofile":
            return DeviceProfile.model_validate(event.details)
    except ValidationError as e:
        raise BusDecodeError(f"system event details are not a valid {event.type}: {e}") from e
    return None
