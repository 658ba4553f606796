"""Read-back confirmation: GET a resource through core-command and compare it with what an action meant to set.

The read goes the same way as the SET (``edgex.core.command.request.<device>.<command>.get``, answered on
``edgex.response.core-command.<requestId>``) with ``ds-returnevent=true``, so it reads the device itself, not a
cache. Values are compared as EdgeX writes them: ``true``/``false`` case-insensitively, numbers (Go's ``2.5e+00``
included) within a tolerance, anything else as text.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from pydantic import ValidationError

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import new_envelope
from edgewatch.common.bus.errors import BusDecodeError
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.event import EventResponse
from edgewatch.rules.config import ActuationSection
from edgewatch.rules.rule import Action

__all__ = ["ReadBack", "ReadBackResult", "values_match"]

_BOOLS = ("true", "false")


def values_match(read: str, expected: str, tolerance: float = 0.0) -> bool:
    """True when a read-back value shows the expected one (bools by name, numbers within ``tolerance``)."""
    r, e = read.strip(), expected.strip()
    if r.lower() in _BOOLS or e.lower() in _BOOLS:
        return r.lower() == e.lower()
    try:
        return abs(float(r) - float(e)) <= tolerance
    except ValueError:
        return r == e


@dataclass(frozen=True, slots=True)
class ReadBackResult:
    """What a confirmation found: ``ok``, the last value read (empty if none) and, when not ok, why."""

    ok: bool
    value: str
    error: str
    reads: int


class ReadBack:
    """Reads resources through core-command to confirm actions."""

    def __init__(self, bus: NatsBus, cfg: ActuationSection) -> None:
        self.bus = bus
        self.cfg = cfg

    async def read(self, device: str, command: str, resource: str, key: str) -> str:
        """The current value of ``resource`` as ``GET <device>/<command>`` returns it.

        Raises:
            EdgeXError: no answer, an error answer, or no such reading in the returned event.
        """
        env = new_envelope(b"", correlation_id=key, query_params={"ds-returnevent": "true"})
        subject = topics.command_request(device, command, "get")
        resp = await edgex_request(
            self.bus, subject, env, responder=self.cfg.responder, timeout=self.cfg.command_timeout
        )
        if resp.error_code:
            raise EdgeXError(resp.payload.decode("utf-8", "replace")[:500] or "errorCode 1")
        try:
            event = EventResponse.model_validate(resp.payload_json()).event
        except (BusDecodeError, ValidationError) as e:
            raise EdgeXError(f"GET {device}/{command} answered without an event: {str(e)[:300]}") from e
        for r in event.readings:
            if r.resource_name == resource:
                return "null" if r.is_null else r.value if isinstance(r.value, str) else str(r.value)
        raise EdgeXError(f"GET {device}/{command} returned no {resource} reading")

    async def confirm(self, spec: Action, device: str, key: str) -> ReadBackResult:
        """Read back until the value matches or ``confirm.within`` seconds have passed (one read at least)."""
        cfm = spec.confirm
        if cfm is None:
            return ReadBackResult(True, "", "", 0)
        resource, expected = spec.confirm_resource, spec.confirm_value
        deadline = time.monotonic() + cfm.within
        value, error, reads = "", "", 0
        while True:
            reads += 1
            try:
                value = await self.read(device, spec.confirm_command, resource, key)
                if values_match(value, expected, cfm.tolerance):
                    return ReadBackResult(True, value, "", reads)
                error = f"confirmation failed: {device}/{resource} read back {value!r}, expected {expected!r}"
            except EdgeXError as e:
                error = f"confirmation read failed: {e.message}"
            if time.monotonic() + cfm.interval > deadline:
                return ReadBackResult(False, value, error, reads)
            await asyncio.sleep(cfm.interval)
