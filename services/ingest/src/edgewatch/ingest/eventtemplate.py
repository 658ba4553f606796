"""One-reading events as byte templates: the AddEventRequest JSON of a pushed change with only ids, origin and value
left to fill in.

A subscribing device publishes one EdgeX event per data change (thousands per second on a busy endpoint), and
building each through the pydantic models costs more than the protocol decoding itself. For a resource with a
numeric or Bool valueType and a given set of tags, everything else in the body is fixed, so the body is rendered
once through the models with sentinel ids, origin and value, split at the sentinels, and then filled by string
joins. A template is only used after it reproduced the models' bytes exactly for a real value; anything else
(String, arrays, Binary, Object, null readings) takes the model path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for, request_id_for
from edgewatch.common.contracts.values import format_value
from edgewatch.common.contracts.valuetype import ValueType

__all__ = ["EventTemplate"]

_IDS: Final = (
    "00000000-0000-4000-8000-0000000000e1",
    "00000000-0000-4000-8000-0000000000e2",
    "00000000-0000-4000-8000-0000000000e3",
)
_ORIGIN: Final = 7_777_777_777_777_777_771
_Args = tuple[str, str, str, ValueType, str, dict[str, Any] | None, Mapping[str, Any] | None]
_VALUES: Final[dict[bool, tuple[Any, ...]]] = {True: (123, 101, 99), False: (12345.625, 1.25, -0.5)}


class EventTemplate:
    """The body of one device/resource's one-reading events, with fixed tags."""

    __slots__ = ("_parts", "device", "profile", "resource", "value_type")

    def __init__(self, device: str, profile: str, resource: str, value_type: ValueType, parts: list[str]) -> None:
        self.device = device
        self.profile = profile
        self.resource = resource
        self.value_type = value_type
        self._parts = parts

    @classmethod
    def build(
        cls,
        device: str,
        profile: str,
        resource: str,
        value_type: ValueType,
        *,
        units: str = "",
        tags: Mapping[str, Any] | None = None,
        event_tags: Mapping[str, Any] | None = None,
    ) -> EventTemplate | None:
        """A checked template, or None when the value type or the text does not allow one."""
        if not (value_type.is_numeric or value_type is ValueType.BOOL):
            return None
        args: _Args = (device, profile, resource, value_type, units, dict(tags) if tags else None, event_tags)
        candidates = (True, False) if value_type is ValueType.BOOL else _VALUES[value_type.is_integer]
        for sentinel in candidates:
            text = format_value(value_type, sentinel)
            body = _render(*args, _IDS, _ORIGIN, sentinel).decode()
            markers = [f'"{_IDS[2]}"', f'"{_IDS[0]}"', str(_ORIGIN), f'"{_IDS[1]}"', str(_ORIGIN), f'"{text}"']
            parts = _split(body, markers)
            if parts is None:
                continue
            template = cls(device, profile, resource, value_type, parts)
            if template.check(args):
                return template
        return None

    def check(self, args: _Args) -> bool:
        """Whether the template renders a real change exactly as the models do."""
        probe = True if self.value_type is ValueType.BOOL else 1
        origin = 1_700_000_000_123_456_789
        eid = event_id_for(self.device, self.resource, origin)
        ids = (eid, reading_id_for(eid, 0), request_id_for(eid))
        expected = _render(*args, ids, origin, probe)
        return self.render(origin, format_value(self.value_type, probe))[1] == expected

    def render(self, origin: int, value_text: str) -> tuple[str, bytes]:
        """``(event id, AddEventRequest JSON)`` of the change at ``origin`` with ``value_text`` (Go value string)."""
        eid = event_id_for(self.device, self.resource, origin)
        o = str(origin)
        p = self._parts
        body = "".join(
            (
                p[0],
                request_id_for(eid),
                p[1],
                eid,
                p[2],
                o,
                p[3],
                reading_id_for(eid, 0),
                p[4],
                o,
                p[5],
                value_text,
                p[6],
            )
        )
        return eid, body.encode()


def _render(
    device: str,
    profile: str,
    resource: str,
    value_type: ValueType,
    units: str,
    tags: dict[str, Any] | None,
    event_tags: Mapping[str, Any] | None,
    ids: tuple[str, str, str],
    origin: int,
    value: Any,
) -> bytes:
    reading = Reading.simple(
        device, profile, resource, value_type, value, origin=origin, units=units, tags=tags, id=ids[1]
    )
    event = new_event(
        device, profile, resource, [reading], origin=origin, id=ids[0], tags=dict(event_tags) if event_tags else None
    )
    return AddEventRequest.of(event, ids[2]).to_json()


def _split(body: str, markers: list[str]) -> list[str] | None:
    """Split ``body`` at each marker in turn (keeping the quotes out of the holes); None unless each occurs once,
    in order, where expected."""
    parts: list[str] = []
    rest = body
    for marker in markers:
        if body.count(marker) != (2 if marker == str(_ORIGIN) else 1):
            return None
        head, sep, rest = rest.partition(marker)
        if not sep:
            return None
        quoted = marker.startswith('"')
        parts.append(head + ('"' if quoted else ""))
        rest = ('"' if quoted else "") + rest
    parts.append(rest)
    return parts
