"""rules reads events through peek_readings: it yields what the full decode + event_readings yields, or None where
only the full decode can say."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from edgewatch.common.contracts.eventcodec import EventDecodeError, decode_add_event
from edgewatch.common.contracts.eventpeek import peek_readings
from edgewatch.rules.samples import event_readings

ORIGIN = 1_700_000_000_000_000_000
EID = "6f1d8e3a-9c41-4b7e-8a55-0d2b1e6c7f90"
WANTED = {"Current", "Running", "Counts", "Blob"}


def _reading(name: str, vt: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"resourceName": name, "valueType": vt, "value": value, **extra}


def _event(*readings: dict[str, Any], **over: Any) -> dict[str, Any]:
    ev = {
        "apiVersion": "v3",
        "id": EID,
        "deviceName": "pump-1",
        "profileName": "pump",
        "sourceName": "all",
        "origin": ORIGIN,
        "readings": list(readings),
    }
    return {"apiVersion": "v3", "requestId": "", "event": {**ev, **over}}


BASE = _event(
    _reading("Current", "Float32", "1.25e+01"),
    _reading("Running", "Bool", "true", origin=ORIGIN + 5),
    _reading("Vibration", "Float64", "2.5e+00"),
)

SAME = {
    "float32, bool with its own origin, an unwatched float": BASE,
    "json numbers (numeric=true shape)": _event(
        _reading("Current", "Float32", 12.5), _reading("Running", "Bool", True)
    ),
    "integers and an unsigned": _event(_reading("Current", "Int16", "-7"), _reading("Counts", "Uint64", "42")),
    "null and array readings give no sample": _event(
        _reading("Current", "Float32", None), _reading("Counts", "Int32Array", "[1, 2]")
    ),
    "binary reading gives no sample": _event(
        {"resourceName": "Blob", "valueType": "Binary", "binaryValue": "AAE=", "mediaType": "application/octet-stream"}
    ),
    "single reading named by the source": _event({"valueType": "Float32", "value": "3e+00"}, sourceName="Current"),
    "unknown keys are kept, not read": _event(_reading("Current", "float32", "1e+00", extra={"x": 1}), vendor={"a": 1}),
    "nothing watched": _event(_reading("Vibration", "Float64", "1e+00")),
}

FULL_DECODE_DECIDES = {
    "bad event id": _event(_reading("Current", "Float32", "1e+00"), id="not-a-uuid"),
    "zero origin": _event(_reading("Current", "Float32", "1e+00"), origin=0),
    "no readings": _event(),
    "empty device": _event(_reading("Current", "Float32", "1e+00"), deviceName=""),
    "nameless reading among several": _event(
        {"valueType": "Float32", "value": "1e+00"}, _reading("Current", "Float32", "1e+00")
    ),
    "unknown value type": _event(_reading("Current", "Float128", "1e+00")),
    "watched value does not parse": _event(_reading("Current", "Float32", "twelve")),
    "value of the wrong JSON type": _event(_reading("Current", "Float32", [1])),
    "bad request id": {**BASE, "requestId": "nope"},
    "bare event": BASE["event"],
}


def _full(doc: dict[str, Any]) -> tuple[str, list[tuple[str, float, int]]]:
    event = decode_add_event(json.dumps(doc).encode()).event
    return event.device_name, list(event_readings(event, WANTED))


@pytest.mark.parametrize("doc", list(SAME.values()), ids=list(SAME))
def test_peek_yields_what_the_full_decode_yields(doc: dict[str, Any]) -> None:
    assert peek_readings(json.dumps(doc).encode(), "application/json", WANTED) == _full(doc)


@pytest.mark.parametrize("doc", list(FULL_DECODE_DECIDES.values()), ids=list(FULL_DECODE_DECIDES))
def test_peek_leaves_to_the_full_decode_what_it_cannot_read_the_same_way(doc: dict[str, Any]) -> None:
    assert peek_readings(json.dumps(doc).encode(), "application/json", WANTED) is None


def test_peek_reads_neither_cbor_nor_malformed_json() -> None:
    assert peek_readings(json.dumps(BASE).encode(), "application/cbor", WANTED) is None
    assert peek_readings(b'{"event": ', "application/json", WANTED) is None


def test_an_invalid_unwatched_reading_is_left_to_the_event_store() -> None:
    doc = copy.deepcopy(BASE)
    doc["event"]["readings"][2]["value"] = "not a number"  # Vibration: no rule watches it
    with pytest.raises(EventDecodeError):
        decode_add_event(json.dumps(doc).encode())
    assert peek_readings(json.dumps(doc).encode(), "application/json", WANTED) == ("pump-1", _full(BASE)[1])
