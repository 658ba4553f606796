"""AddEventRequest bodies in JSON or CBOR (fxamacker/cbor: same keys as JSON, binaryValue as a byte string)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pydantic import ValidationError

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.event import AddEventRequest, Event
from edgewatch.common.contracts.eventfast import EventView, decode_event_view, decode_request_json
from edgewatch.common.contracts.limits import check_json_depth, check_object_depth
from edgewatch.common.contracts.valuetype import ValueType

__all__ = [
    "CONTENT_CBOR",
    "CONTENT_JSON",
    "EventDecodeError",
    "content_type_for",
    "decode_add_event",
    "decode_add_event_within",
    "decode_event_values_within",
    "encode_add_event",
    "media_type",
]

CONTENT_JSON: Final = "application/json"
CONTENT_CBOR: Final = "application/cbor"


class EventDecodeError(ContractInvalidError, ValueError):
    """400: a body that is not a valid AddEventRequest (or bare Event) in its content type; names the field."""


def media_type(content_type: str | None) -> str:
    """The bare, lower-cased media type of a Content-Type value (parameters dropped; empty means JSON)."""
    if not content_type:
        return CONTENT_JSON
    return content_type.split(";", 1)[0].strip().lower()


def content_type_for(event: Event, *, cbor_all: bool = False) -> str:
    """The content type the Go SDK picks: CBOR when any reading is Binary (or ``cbor_all``), else JSON."""
    if cbor_all or any(r.value_type is ValueType.BINARY for r in event.readings):
        return CONTENT_CBOR
    return CONTENT_JSON


def encode_add_event(request: AddEventRequest, content_type: str = CONTENT_JSON) -> bytes:
    """Encode ``request`` as ``application/json`` or ``application/cbor``.

    Raises:
        ValueError: an unsupported content type.
    """
    kind = media_type(content_type)
    if kind == CONTENT_JSON:
        return request.model_dump_json(by_alias=True).encode()
    if kind == CONTENT_CBOR:
        import cbor2  # CBOR bodies only: a suite that never meets one does not load it

        return cbor2.dumps(request.model_dump(by_alias=True))
    raise ValueError(f"unsupported event content type {content_type!r}")


def decode_add_event(data: bytes | bytearray | memoryview, content_type: str | None = CONTENT_JSON) -> AddEventRequest:
    """Decode an AddEventRequest body; a bare Event document is accepted too (as app-functions-sdk does).

    Raises:
        EventDecodeError: malformed JSON/CBOR or a document that fails validation (message names the field).
    """
    kind = media_type(content_type)
    if isinstance(data, memoryview):
        data = data.tobytes()
    if kind == CONTENT_JSON:
        fast = decode_request_json(data)  # the common form without pydantic's validators; None: pydantic decides
        if fast is not None:
            return fast
        return _request_or_bare_event(AddEventRequest.model_validate_json, Event.model_validate_json, data)
    if kind == CONTENT_CBOR:
        import cbor2

        try:
            doc = cbor2.loads(bytes(data))
        except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError) as e:
            raise EventDecodeError(f"malformed CBOR event body: {e}") from None
        return _from_document(doc)
    raise EventDecodeError(f"unsupported event content type {content_type!r}", field="Content-Type")


def decode_add_event_within(
    data: bytes | bytearray | memoryview, content_type: str | None, max_depth: int
) -> AddEventRequest:
    """:func:`decode_add_event` of a document nested at most ``max_depth`` deep (a module-level function, so a
    parse worker can run it).

    Raises:
        StructureLimitError: nested deeper (400).
        EventDecodeError: see :func:`decode_add_event`.
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    kind = media_type(content_type)
    if kind == CONTENT_CBOR:
        import cbor2

        try:
            doc = cbor2.loads(bytes(data))
        except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError) as e:
            raise EventDecodeError(f"malformed CBOR event body: {e}") from None
        check_object_depth(doc, max_depth, "event")
        return _from_document(doc)
    if kind == CONTENT_JSON:
        check_json_depth(bytes(data), max_depth, "event")
    return decode_add_event(data, content_type)


def decode_event_values_within(
    data: bytes | bytearray | memoryview, content_type: str | None, max_depth: int
) -> Event | EventView:
    """The event of an AddEventRequest for a consumer that only reads its values: for the common JSON form an
    :class:`~edgewatch.common.contracts.eventfast.EventView` (checked the same way, no models built), else the Event
    of :func:`decode_add_event_within`. Takes and refuses what :func:`decode_add_event_within` does.

    Raises:
        StructureLimitError: nested deeper than ``max_depth`` (400).
        EventDecodeError: see :func:`decode_add_event`.
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    if media_type(content_type) != CONTENT_JSON:
        return decode_add_event_within(data, content_type, max_depth).event
    check_json_depth(bytes(data), max_depth, "event")
    view = decode_event_view(data)
    return view if view is not None else decode_add_event(data, content_type).event


def _from_document(doc: Any) -> AddEventRequest:
    if not isinstance(doc, dict):
        raise EventDecodeError(f"event body must be a map, got {type(doc).__name__}")
    return _request_or_bare_event(AddEventRequest.model_validate, Event.model_validate, doc)


def _request_or_bare_event(
    as_request: Callable[[Any], AddEventRequest], as_event: Callable[[Any], Event], data: Any
) -> AddEventRequest:
    """An AddEventRequest, or a bare Event wrapped in one (what some publishers send); errors name the field."""
    try:
        return as_request(data)
    except ValidationError as e:
        if not _missing_event(e):
            raise _decode_error(e) from None
    try:
        return AddEventRequest.of(as_event(data), request_id="")
    except ValidationError as e:
        raise _decode_error(e) from None


def _missing_event(error: ValidationError) -> bool:
    return any(item["type"] == "missing" and tuple(item["loc"]) == ("event",) for item in error.errors())


def _decode_error(error: ValidationError) -> EventDecodeError:
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return EventDecodeError(f"malformed JSON event body: {first['msg']}")
    field = ".".join(str(part) for part in first["loc"])
    return EventDecodeError(f"{field}: {first['msg']}", field=field or None)
