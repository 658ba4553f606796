"""A device command as core-command forwards it: its checks, its subject and its envelope, in one place.

core-command runs these for every command it forwards; rules runs the very same ones before it sends a SET
straight to the device service (``Actuation.Route: direct``), so a command refused by one is refused by the other
with the same text. The metadata comes from the caller (core's stores, rules' read-only replica of them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from edgewatch.common.bus.envelope import MessageEnvelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.commanderror import remote_error
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.deviceservice import DeviceService
from edgewatch.common.contracts.errors import (
    ContractInvalidError,
    EdgeXError,
    ErrorKind,
    LockedError,
    NotFoundError,
    ServiceUnavailableError,
)
from edgewatch.common.contracts.limits import check_json_depth
from edgewatch.common.contracts.profile import DeviceProfile, readable, writable

__all__ = ["CommandMetadata", "DeviceCommand", "answer_error", "check_command", "prepare_device_command"]

_DS_FLAGS = ("ds-pushevent", "ds-returnevent")


@dataclass(frozen=True)
class CommandMetadata:
    """Where the checks look things up: ``device`` raises NotFoundError for an unknown name (``"device 'x' does
    not exist"``), the others answer None."""

    device: Callable[[str], Device]
    profile: Callable[[str], DeviceProfile | None]
    service: Callable[[str], DeviceService | None]


@dataclass(frozen=True)
class DeviceCommand:
    """A checked command, ready to go: the device, the device service's subject and the envelope to send."""

    device: Device
    subject: str
    envelope: MessageEnvelope


def check_command(meta: CommandMetadata, device_name: str, command: str, method: str) -> Device:
    """The device, when ``method`` (``get``/``set``) of ``command`` may run on it now.

    Raises:
        NotFoundError: no such device, or no such command or resource.
        EdgeXError(405): the command or resource is not readable (GET) / writable (SET).
        LockedError: the device is LOCKED or DOWN, or its device service is LOCKED.
    """
    d = meta.device(device_name)
    p = meta.profile(d.profile_name) if d.profile_name else None
    rw: str | None = None
    if p is not None:
        c = p.command(command)
        res = p.resource(command)
        rw = c.read_write if c is not None else res.properties.read_write if res is not None else None
    if rw is None:
        raise NotFoundError(f"device {device_name!r} has no command or resource {command!r}", field="command")
    if (method == "get" and not readable(rw)) or (method == "set" and not writable(rw)):
        raise EdgeXError(
            f"command {command!r} of device {device_name!r} is {rw}: {method.upper()} is not allowed",
            kind=ErrorKind.NOT_ALLOWED,
        )
    if d.admin_state == "LOCKED":
        raise LockedError(f"device {device_name!r} is LOCKED")
    if d.operating_state == "DOWN":
        raise LockedError(f"device {device_name!r} is DOWN")
    svc = meta.service(d.service_name)
    if svc is not None and svc.admin_state == "LOCKED":
        raise LockedError(f"device service {d.service_name!r} is LOCKED")
    return d


def prepare_device_command(
    meta: CommandMetadata,
    device_name: str,
    command: str,
    method: str,
    query: Mapping[str, str],
    body: bytes,
    correlation_id: str,
    max_depth: int,
) -> DeviceCommand:
    """Check one command (query flags, :func:`check_command`, a SET's body) and address it to the owning device
    service on ``edgex.device.command.request.<service>.<device>.<command>.<method>``.

    Raises:
        NotFoundError, LockedError, EdgeXError(405), ContractInvalidError, ServiceUnavailableError (the device
        cannot be addressed on the bus).
    """
    method = method.lower()
    for flag in _DS_FLAGS:
        if flag in query and query[flag] not in ("true", "false"):
            raise ContractInvalidError(f"{flag} {query[flag]!r} must be 'true' or 'false'", field=flag)
    d = check_command(meta, device_name, command, method)
    if method == "set":
        check_json_depth(body, max_depth, "body")  # bus requests come without the REST body limits
        try:
            doc = json.loads(body or b"{}")
        except ValueError as e:
            raise ContractInvalidError(f"SET body is not JSON: {e}", field="body") from None
        if not isinstance(doc, dict) or not doc:
            raise ContractInvalidError("SET body must be a non-empty JSON object of resource values", field="body")
    try:
        subject = topics.device_command_request(d.service_name, d.name, command, method)
    except ValueError as e:
        raise ServiceUnavailableError(f"cannot address device {d.name!r} on the bus: {e}") from e
    env = new_envelope(body if method == "set" else b"", correlation_id=correlation_id, query_params=dict(query))
    return DeviceCommand(d, subject, env)


def answer_error(d: Device, command: str, method: str, reply: MessageEnvelope) -> EdgeXError:
    """The device service's error with its kind (400 contract, 404, 405, 423, 503, ...; 502 when unclassified)."""
    context = f"device service {d.service_name!r} failed {method.upper()} {d.name}/{command}"
    return remote_error(reply.payload.decode("utf-8", errors="replace"), context)
