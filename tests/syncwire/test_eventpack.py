"""Sync's columnar event codec (syncwire.eventpack) and the derived ids (contracts.ids): lossless = byte-identical.

Every payload that goes through ``pack_events``/``unpack_events`` (or a version-2 batch) must come back as the
same bytes; records the codec cannot reproduce stay opaque (``packed`` False) and travel untouched.
"""

from __future__ import annotations

import json
import math
import uuid

import msgpack
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, encode_add_event
from edgewatch.common.contracts.ids import (
    EDGEWATCH_NAMESPACE,
    event_id_for,
    name_uuid,
    reading_id_for,
    request_id_for,
)
from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.syncwire.batch import (
    BatchDecodeError,
    BatchHeader,
    DataClass,
    RecordRow,
    decode_batch_packed,
    decode_batch_rows,
    encode_rows,
    unpack_packed,
)
from edgewatch.syncwire.eventpack import pack_events, unpack_events

T0 = 1_763_000_000_000_000_000


def _event(i: int, values: list[tuple[str, str, object]] | None = None, *, derived: bool = True, **kw: object):
    dev, origin = f"pump-{i % 3}", T0 + i * 1_000_000
    eid = event_id_for(dev, "all", origin) if derived else None
    specs = values or [("Flow", "Float32", 20.0 + i / 8), ("Pressure", "Float64", 3.0 + i / 4), ("Seq", "Uint32", i)]
    readings = [
        Reading.simple(dev, "pump", res, vt, v, origin=origin, id=reading_id_for(eid, k) if eid else None, units="bar")
        if res == "Pressure"
        else Reading.simple(dev, "pump", res, vt, v, origin=origin, id=reading_id_for(eid, k) if eid else None)
        for k, (res, vt, v) in enumerate(specs)
    ]
    event = new_event(dev, "pump", "all", readings, origin=origin, id=eid, **kw)  # type: ignore[arg-type]
    return AddEventRequest.of(event, request_id_for(eid) if eid else None)


def _payload(i: int, values: list[tuple[str, str, object]] | None = None, **kw: object) -> bytes:
    return encode_add_event(_event(i, values, **kw))


def _round_trip(payloads: list[bytes | None]) -> list[bool]:
    packed, pack = pack_events(payloads)
    wire = msgpack.unpackb(msgpack.packb(pack, use_bin_type=True), raw=False, use_list=False) if pack else None
    back = iter(unpack_events(wire) if wire is not None else [])
    for payload, was_packed in zip(payloads, packed, strict=True):
        if was_packed:
            got = next(back)
            assert got == payload  # byte-identical
            assert json.loads(got) == json.loads(payload)  # (so also the same JSON object)
    assert next(back, None) is None
    return packed


def test_derived_ids_are_uuid5_under_the_edgewatch_namespace() -> None:
    eid = event_id_for("pump-1", "all", T0)
    assert eid == str(uuid.uuid5(EDGEWATCH_NAMESPACE, f"pump-1/all/{T0}"))
    assert reading_id_for(eid, 2) == str(uuid.uuid5(EDGEWATCH_NAMESPACE, f"{eid}/2"))
    assert request_id_for(eid) == str(uuid.uuid5(EDGEWATCH_NAMESPACE, f"{eid}/request"))
    assert uuid.UUID(eid).version == 5 and name_uuid("x") == str(uuid.uuid5(EDGEWATCH_NAMESPACE, "x"))
    ids = {event_id_for("pump-1", "all", T0 + k) for k in range(1000)} | {event_id_for("pump-2", "all", T0)}
    ids |= {reading_id_for(eid, k) for k in range(10)} | {request_id_for(eid)}
    assert len(ids) == 1000 + 1 + 10 + 1


def test_events_with_derived_ids_pack_without_any_id_bytes() -> None:
    payloads: list[bytes | None] = [_payload(i) for i in range(50)]
    assert all(_round_trip(payloads))
    _, pack = pack_events(payloads)
    assert pack[4] == b""  # no carried ids
    assert set(pack[3]) == {7}  # event, request and reading ids all derived


def test_random_ids_are_carried_as_16_raw_bytes() -> None:
    payloads: list[bytes | None] = [_payload(i, derived=False) for i in range(20)]
    assert all(_round_trip(payloads))
    _, pack = pack_events(payloads)
    assert len(pack[4]) == 20 * 5 * 16 and set(pack[3]) == {0}


def test_mixed_ids_event_derived_but_readings_and_request_random() -> None:
    req = _event(1)
    doc = json.loads(encode_add_event(req))
    doc["requestId"] = str(uuid.uuid4())
    doc["event"]["readings"][1]["id"] = str(uuid.uuid4())
    payload = json.dumps(doc, separators=(",", ":")).encode()
    assert _round_trip([payload]) == [True]
    _, pack = pack_events([payload])
    assert pack[3] == bytes([1]) and len(pack[4]) == 16 * (1 + 3)


FLOAT32_CASES = [0.0, -0.0, 1e-45, -1e-45, 3.4028235e38, -3.4028235e38, 0.1, 39.5, 1.17549435e-38, 16777217.0]
FLOAT64_CASES = [0.0, -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3, -2.5e-300, 123456789.123]
SPECIAL = [math.nan, math.inf, -math.inf]
INT_CASES = {
    "Uint8": [0, 255],
    "Uint16": [0, 65535],
    "Uint32": [0, 4294967295],
    "Uint64": [0, 2**63, 2**64 - 1],
    "Int8": [-128, 127],
    "Int16": [-32768, 32767],
    "Int32": [-(2**31), 2**31 - 1],
    "Int64": [-(2**63), 2**63 - 1, 0],
}


@pytest.mark.parametrize(
    ("vt", "values"),
    [("Float32", FLOAT32_CASES + SPECIAL), ("Float64", FLOAT64_CASES + SPECIAL), *INT_CASES.items()],
)
def test_every_numeric_type_round_trips_exactly(vt: str, values: list[object]) -> None:
    payloads: list[bytes | None] = [_payload(i, [("X", vt, v), ("Seq", "Uint32", i)]) for i, v in enumerate(values)]
    assert all(_round_trip(payloads))
    texts = [json.loads(p)["event"]["readings"][0]["value"] for p in payloads if p]
    if vt.startswith("Float"):
        assert "NaN" in texts and "+Inf" in texts and "-Inf" in texts and "-0e+00" in texts and "0e+00" in texts


def test_bool_string_and_array_values_travel_as_exact_strings() -> None:
    values: list[tuple[str, str, object]] = [
        ("B", "Bool", True),
        ("S", "String", "héllo wörld ✓"),
        ("A", "Float32Array", [1.5, -0.0, 3.4028235e38]),
        ("I", "Int16Array", [1, -2, 3]),
        ("SA", "StringArray", ["a", "b c"]),
        ("BA", "BoolArray", [True, False]),
    ]
    assert _round_trip([_payload(1, values), _payload(2, values)]) == [True, True]


def _edit(payload: bytes, edit) -> bytes:
    doc = json.loads(payload)
    edit(doc)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _set_value(doc: dict, text: str) -> None:
    doc["event"]["readings"][0]["value"] = text


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: _set_value(d, "39.5"),  # not Go's E-notation for Float32
        lambda d: _set_value(d, "2.01250e+01"),  # extra digit
        lambda d: _set_value(d, "nan"),
        lambda d: _set_value(d, "1e+99"),  # out of Float32 range
        lambda d: d["event"]["readings"][2].update(value="+5"),  # Uint32 with a sign
        lambda d: d["event"]["readings"][2].update(value="007"),
        lambda d: d["event"]["readings"][2].update(value="-1"),  # out of Uint32 range
        lambda d: d["event"].update(tags=["site"]),  # tags that are not an object
        lambda d: d["event"]["readings"][0].update(tags={"k": 1}),  # reading tags after the value: other key order
        lambda d: d["event"].update(extension=1),
        lambda d: d["event"]["readings"][0].update(origin=d["event"]["origin"] + 1),
        lambda d: d["event"]["readings"][0].update(deviceName="other"),
        lambda d: d["event"].update(id=d["event"]["id"].upper()),
        lambda d: d.update(requestId="not-a-uuid"),
        lambda d: d["event"]["readings"][0].update(valueType="float32"),
        lambda d: d["event"]["readings"][0].update(value=20.125),  # ?numeric=true shape
        lambda d: d["event"]["readings"][0].pop("id"),
    ],
)
def test_what_the_codec_cannot_reproduce_exactly_stays_opaque(edit) -> None:
    good = _payload(1)
    odd = _edit(good, edit)
    assert odd != good
    assert _round_trip([good, odd, _payload(2)]) == [True, False, True]


def test_other_formatting_object_binary_null_and_garbage_stay_opaque() -> None:
    good = _payload(1)
    dev = "pump-1"
    obj = encode_add_event(
        AddEventRequest.of(new_event(dev, "pump", "o", [Reading.object(dev, "pump", "o", {"a": [1, 2]})], origin=T0))
    )
    null = encode_add_event(
        AddEventRequest.of(new_event(dev, "pump", "n", [Reading.null(dev, "pump", "n", "Float32")], origin=T0))
    )
    binary = Reading.binary(dev, "pump", "b", b"\x00\x01", "application/octet-stream")
    cbor = encode_add_event(AddEventRequest.of(new_event(dev, "pump", "b", [binary], origin=T0)), CONTENT_CBOR)
    candidates: list[bytes | None] = [
        good,
        json.dumps(json.loads(good), indent=1).encode(),  # whitespace
        json.dumps(json.loads(good), sort_keys=True, separators=(",", ":")).encode(),  # key order
        obj,
        null,
        None,  # a CBOR record is no candidate at all
        b"",
        b"not json",
        b'{"apiVersion":"v3"}',
        good,
    ]
    packed = _round_trip(candidates)
    assert packed == [True, False, False, False, False, False, False, False, False, True]
    assert cbor  # built to show a binary reading cannot be JSON-packed


def _rows(payloads: list[bytes], content_types: list[str] | None = None) -> list[RecordRow]:
    cts = content_types or [""] * len(payloads)
    return [
        RecordRow(
            "", f"pump-{i % 3}", i + 1, f"edgex.events.device.ew.pump.pump-{i % 3}.all", 100 + i, T0 + i * 977, c, p
        )
        for i, (p, c) in enumerate(zip(payloads, cts, strict=True))
    ]


HEADER = BatchHeader(batch_id="gw/EW_SYNC_EVENT@1/100-199", gateway="gw", data_class=DataClass.EVENT, stream="S")


def test_event_batch_is_version_2_lossless_and_under_a_tenth_of_the_json() -> None:
    payloads = [_payload(i) for i in range(200)]
    payloads[7] = _edit(payloads[7], lambda d: d["event"].update(extension=1))  # one opaque record
    rows = _rows(payloads, ["application/cbor" if i == 9 else "" for i in range(200)])
    body = encode_rows(HEADER, rows)
    assert msgpack.unpackb(zstandard.decompress(body))[0] == 2
    header, back = decode_batch_rows(body)
    assert header == HEADER and back == rows
    assert len(body) <= 0.1 * sum(len(p) for p in payloads)
    assert len(body) < len(encode_rows(HEADER, rows, pack=False)) / 4


def _tagged(i: int) -> bytes:
    """An event as ingest publishes it for a device with tags and a resource with tags."""
    dev, origin = f"pump-{i % 3}", T0 + i * 1_000_000
    eid = event_id_for(dev, "all", origin)
    readings = [
        Reading.simple(
            dev,
            "pump",
            "Flow",
            "Float32",
            20.0 + i / 8,
            origin=origin,
            id=reading_id_for(eid, 0),
            tags={"sensor": "FT-101", "calibrated": "2026-05-01"},
        ),
        Reading.simple(dev, "pump", "Seq", "Uint32", i, origin=origin, id=reading_id_for(eid, 1)),
    ]
    tags = {"site": "Lyon", "line": 3, "cell": {"name": "B", "ü": [1.5, None]}}
    event = new_event(dev, "pump", "all", readings, origin=origin, id=eid, tags=tags)
    return encode_add_event(AddEventRequest.of(event, request_id_for(eid)))


def test_device_and_resource_tags_are_packed_once_per_shape_and_rebuilt_byte_identical() -> None:
    payloads = [_tagged(i) for i in range(300)]
    assert b'"tags":{"sensor"' in payloads[0] and payloads[0].endswith(b'"cell":{"name":"B","\xc3\xbc":[1.5,null]}}}}')
    assert _round_trip(payloads) == [True] * 300
    body = encode_rows(HEADER, _rows(payloads))
    _, back = decode_batch_rows(body)
    assert [r.payload for r in back] == payloads
    assert len(body) <= 0.1 * sum(len(p) for p in payloads)
    untagged = [p.replace(b',"tags":{"sensor":"FT-101","calibrated":"2026-05-01"}', b"") for p in payloads]
    assert _round_trip(untagged) == [True] * 300  # the same events without reading tags: another shape


def test_non_event_and_unpacked_batches_stay_version_1() -> None:
    rows = _rows([b"\x81\xa1a\x01"] * 3)
    score = HEADER.model_copy(update={"data_class": DataClass.SCORE})
    for body in (
        encode_rows(score, rows),
        encode_rows(HEADER, rows),
        encode_rows(HEADER, _rows([_payload(1)]), pack=False),
    ):
        assert msgpack.unpackb(zstandard.decompress(body))[0] == 1


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda p: (p[0], p[1], p[2], p[3] + b"\x07", p[4], p[5]),  # more flags than records
        lambda p: (p[0], p[1], p[2], bytes([0]) * len(p[3]), p[4], p[5]),  # ids flagged carried but absent
        lambda p: (p[0], p[1], p[2], p[3], p[4], ()),  # columns missing
        lambda p: ((("v3", "v3", 1, "pump", "all", ()),), *p[1:]),  # a shape field not a string
        lambda p: (p[0], p[1][:-2], p[2][:-8], p[3][:-1], p[4], p[5]),  # fewer packed events than rows need
        lambda p: ((("v3", "v3", "pump-0", "pump", "all", p[0][0][5], "not json"),), *p[1:]),  # event tags
        lambda p: ((("v3", "v3", "pump-0", "pump", "all", p[0][0][5], "[1]"),), *p[1:]),  # tags not an object
        lambda p: ((("v3", "v3", "pump-0", "pump", "all", ((*p[0][0][5][0], "{"), *p[0][0][5][1:])),), *p[1:]),
        lambda p: "nonsense",
    ],
)
def test_a_malformed_pack_is_a_batch_decode_error(corrupt) -> None:
    rows = _rows([_payload(i) for i in range(4)])
    doc = list(msgpack.unpackb(zstandard.decompress(encode_rows(HEADER, rows)), raw=False, use_list=False))
    doc[8] = corrupt(doc[8])
    body = zstandard.compress(msgpack.packb(doc, use_bin_type=True))
    with pytest.raises(BatchDecodeError):
        decode_batch_rows(body)
    with pytest.raises(BatchDecodeError):
        decode_batch_packed(body)  # checked without unpacking: the receiver never commits what it cannot rebuild


def test_a_batch_decoded_without_unpacking_rebuilds_the_same_rows_from_its_pack() -> None:
    payloads = [_payload(i) for i in range(50)]
    payloads[3] = _edit(payloads[3], lambda d: d["event"].update(extension=1))  # opaque, keeps its payload
    rows = _rows(payloads)
    body = encode_rows(HEADER, rows)
    header, lazy, packed = decode_batch_packed(body)
    assert packed is not None and header == HEADER
    assert packed.rows == [i for i in range(50) if i != 3]
    assert lazy[3] == rows[3] and all(lazy[i].payload == b"" for i in packed.rows)
    rebuilt = list(lazy)
    for i, payload in zip(packed.rows, unpack_packed(packed.body), strict=True):
        rebuilt[i] = lazy[i]._replace(payload=payload)
    assert rebuilt == rows == decode_batch_rows(body)[1]
    assert packed.origins == [json.loads(payloads[i])["event"]["origin"] for i in packed.rows]
    assert decode_batch_packed(encode_rows(HEADER, rows, pack=False))[2] is None


def test_value_type_names_are_the_edgex_ones() -> None:
    assert {vt.value for vt in ValueType} >= {"Float32", "Uint64", "StringArray"}


@settings(max_examples=60, deadline=None)
@given(
    f32=st.lists(st.floats(width=32), min_size=1, max_size=20),
    f64=st.lists(st.floats(), min_size=1, max_size=20),
    i64=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20),
)
def test_any_float32_float64_int64_values_round_trip(f32: list[float], f64: list[float], i64: list[int]) -> None:
    n = min(len(f32), len(f64), len(i64))
    payloads: list[bytes | None] = [
        _payload(i, [("F", "Float32", f32[i]), ("D", "Float64", f64[i]), ("I", "Int64", i64[i])]) for i in range(n)
    ]
    assert all(_round_trip(payloads))
