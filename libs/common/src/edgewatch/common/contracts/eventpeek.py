"""The numeric readings a consumer watches, read from a JSON AddEventRequest without building the Event models.

A consumer that needs a few numbers of each event (rules: the readings some rule watches) pays for a full
:func:`eventcodec.decode_add_event` (every reading validated into a model, every value parsed: about 170 us for a
three-reading event) on every event. :func:`peek_readings` decodes the document with msgspec into the fields it
needs, checks what the Event model requires of the event itself, and parses only the watched readings' values
with the model's own parser, so it yields what ``samples.event_readings`` yields from the decoded Event. Anything
it does not read the same way (CBOR, a bare Event, a missing field, an unknown value type, a value that does not
parse) returns None: the caller then decodes fully, which raises the error the full decode raises. It does not
check the readings nobody watches (core-data, which stores the event, does).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import msgspec

from edgewatch.common.contracts.event import UUID_PATTERN
from edgewatch.common.contracts.eventcodec import CONTENT_JSON, media_type
from edgewatch.common.contracts.values import ValueFormatError, parse_value
from edgewatch.common.contracts.valuescalar import is_number
from edgewatch.common.contracts.valuetype import UnknownValueTypeError, ValueType

__all__ = ["Peeked", "peek_readings"]

Peeked = tuple[str, list[tuple[str, float, int]]]  # device name, (resource, value, time) of each watched reading

_UUID = re.compile(UUID_PATTERN)


class _Undecided(Exception):
    """The full decode must decide."""


class _Reading(msgspec.Struct, rename="camel"):
    value_type: str
    resource_name: str = ""
    origin: int = 0
    value: str | bool | int | float | None = None


class _Event(msgspec.Struct, rename="camel"):
    id: str
    device_name: str
    profile_name: str
    source_name: str
    origin: int
    readings: list[_Reading]


class _Request(msgspec.Struct, rename="camel"):
    event: _Event
    request_id: str = ""


_DECODER = msgspec.json.Decoder(_Request)


def peek_readings(payload: bytes, content_type: str | None, wanted: Collection[str]) -> Peeked | None:
    """``(device, [(resource, value, time), ...])`` of the numeric and Bool readings of ``payload`` named in
    ``wanted`` (Bool -> 0/1; a reading's own origin wins over the event's), or None when the full decode must
    decide (see the module docstring)."""
    if media_type(content_type) != CONTENT_JSON:
        return None
    try:
        req = _DECODER.decode(payload)
    except (msgspec.DecodeError, ValueError):
        return None
    ev = req.event
    if req.request_id and _UUID.match(req.request_id) is None:
        return None
    readings = ev.readings
    if not (ev.device_name and ev.profile_name and ev.source_name and ev.origin > 0 and readings):
        return None
    if _UUID.match(ev.id) is None:
        return None
    single = len(readings) == 1
    out: list[tuple[str, float, int]] = []
    for r in readings:
        name = r.resource_name
        if not name:
            if not single:
                return None
            name = ev.source_name
        if name not in wanted:
            continue
        try:
            sample = _sample(r)
        except _Undecided:
            return None
        if sample is not None:
            out.append((name, sample, r.origin or ev.origin))
    return ev.device_name, out


def _sample(r: _Reading) -> float | None:
    """The reading's value as a float; None when it gives no sample (null, not numeric).

    Raises:
        _Undecided: an unknown value type or a value that does not parse.
    """
    try:
        vt = ValueType.parse(r.value_type)
    except UnknownValueTypeError:
        raise _Undecided from None
    value = r.value
    if value is None or not (vt.is_numeric or vt is ValueType.BOOL):
        return None
    if type(value) is str:
        try:
            typed = parse_value(vt, value)
        except ValueFormatError:
            raise _Undecided from None
    else:
        typed = value  # ?numeric=true shape: already a JSON number
    if not is_number(typed):
        return None  # arrays (numpy is never loaded for the check)
    return float(typed)
