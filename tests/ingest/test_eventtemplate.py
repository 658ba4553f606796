"""The byte templates of pushed one-reading events render exactly what the EdgeX models serialise."""

from __future__ import annotations

import math

import pytest

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for, request_id_for
from edgewatch.common.contracts.values import format_value
from edgewatch.common.contracts.valuetype import ValueType as V
from edgewatch.ingest.eventtemplate import EventTemplate

CASES = [
    (V.FLOAT64, [0.0, -1.5, 39.5, 1e300, -2.5e-300, math.inf, math.nan]),
    (V.FLOAT32, [1.5, -3.4e38, 123.456]),
    (V.INT64, [0, -(2**63), 2**63 - 1]),
    (V.UINT64, [0, 2**64 - 1]),
    (V.INT8, [-128, 127]),
    (V.UINT16, [0, 65535]),
    (V.BOOL, [True, False]),
]
TAGS = [None, {"opcuaStatus": "Good", "opcuaStatusCode": "0x00000000"}, {"unit": 'é"quoted"', "n": 123}]


def _models(device: str, vt: V, value: object, origin: int, units: str, tags, event_tags) -> bytes:  # type: ignore[no-untyped-def]
    eid = event_id_for(device, "Temp", origin)
    rid = reading_id_for(eid, 0)
    reading = Reading.simple(device, "prof", "Temp", vt, value, origin=origin, units=units, tags=tags, id=rid)
    event = new_event(device, "prof", "Temp", [reading], origin=origin, id=eid, tags=event_tags)
    return AddEventRequest.of(event, request_id_for(eid)).to_json()


@pytest.mark.parametrize(("vt", "values"), CASES)
@pytest.mark.parametrize("tags", TAGS)
@pytest.mark.parametrize(("device", "units", "event_tags"), [("m-1", "", None), ("Mischer_1", "°C", {"site": "A"})])
def test_template_renders_byte_identical_events(vt, values, tags, device, units, event_tags) -> None:  # type: ignore[no-untyped-def]
    template = EventTemplate.build(device, "prof", "Temp", vt, units=units, tags=tags, event_tags=event_tags)
    assert template is not None
    for i, value in enumerate(values):
        origin = 1_700_000_000_000_000_000 + i * 1_000_003
        eid, body = template.render(origin, format_value(vt, value))
        assert body == _models(device, vt, value, origin, units, tags, event_tags)
        assert eid == event_id_for(device, "Temp", origin)
        assert AddEventRequest.model_validate_json(body).event.id == eid


@pytest.mark.parametrize("vt", [V.STRING, V.FLOAT64_ARRAY, V.BINARY, V.OBJECT])
def test_value_types_with_free_text_or_structure_keep_the_model_path(vt: V) -> None:
    assert EventTemplate.build("m-1", "prof", "Temp", vt) is None
