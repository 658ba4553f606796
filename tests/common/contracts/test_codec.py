"""The internal msgpack codec: round trips, zero-copy little-endian arrays, pydantic models, malformed input."""

from __future__ import annotations

import struct
from enum import Enum
from typing import Annotated, Any

import msgpack
import numpy as np
import pytest
from nats.aio.msg import Msg
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_serializer
from pydantic.alias_generators import to_camel

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts.codec import EXT_NDARRAY, MessageDecodeError, pack, pack_model, unpack, unpack_model
from tests.support.waiting import wait_until


def _arr(v: Any) -> np.ndarray[Any, Any]:
    return np.asarray(v, dtype=np.float64)


class Vector(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, arbitrary_types_allowed=True
    )

    device: str = Field(min_length=1)
    window_start: int = Field(ge=0)
    names: list[str]
    values: Annotated[np.ndarray[Any, Any], BeforeValidator(_arr)]
    sample_rate: float | None = None


class Level(Enum):
    LOW = "low"


class Custom(BaseModel):
    level: Level
    x: int

    @field_serializer("x")
    def _double(self, v: int) -> int:
        return v * 2


def _vector() -> Vector:
    return Vector(device="pump-1", window_start=5, names=[f"f{i}" for i in range(32)], values=np.linspace(0, 1, 32))


@pytest.mark.parametrize(
    "obj",
    [
        None,
        True,
        0,
        -1,
        2**63 - 1,
        1.5,
        "text",
        "ünïcode",
        b"\x00\x01",
        [],
        {},
        [1, [2, {"a": None}]],
        {"k": [1.5, "x"]},
    ],
)
def test_plain_values_round_trip_as_plain_msgpack(obj: object) -> None:
    data = pack(obj)
    assert data == msgpack.packb(obj, use_bin_type=True)
    assert unpack(data) == obj


@pytest.mark.parametrize(
    "arr",
    [
        np.linspace(0, 1, 32),
        np.arange(4096, dtype=np.float32),
        np.arange(12, dtype=np.int16).reshape(3, 4),
        np.array([True, False]),
        np.arange(7, dtype=np.uint8),
        np.array(3.5),
        np.zeros((0, 3)),
        np.arange(6, dtype=">i4"),  # big-endian input travels little-endian
        np.arange(20.0)[::3],  # not contiguous
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.array([1 + 2j], dtype=np.complex64),
    ],
)
def test_arrays_round_trip_with_dtype_values_and_shape(arr: np.ndarray[Any, Any]) -> None:
    out = unpack(pack({"a": arr, "tail": "after"}))
    assert out["tail"] == "after"
    np.testing.assert_array_equal(out["a"], arr)
    assert out["a"].shape == arr.shape and out["a"].dtype == arr.dtype.newbyteorder("<")


def test_decoded_array_is_a_read_only_view_into_the_message_buffer() -> None:
    data = pack({"values": np.linspace(0, 1, 32), "wave": np.arange(4096, dtype=np.float32)})
    out = unpack(data)
    wire = np.frombuffer(data, dtype=np.uint8)
    for a in out.values():
        assert np.shares_memory(a, wire)
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = 1


def test_arrays_are_little_endian_raw_bytes_in_a_standard_msgpack_ext() -> None:
    big = np.array([1.0, -2.5, 3.25], dtype=">f8")
    data = pack({"a": big})
    doc = msgpack.unpackb(data)  # any msgpack reader can read the message
    ext = doc["a"]
    assert isinstance(ext, msgpack.ExtType) and ext.code == EXT_NDARRAY
    assert ext.data == b"\x03\x01<f8" + struct.pack("<Q", 3) + big.astype("<f8").tobytes()
    assert big.tobytes() not in data  # no big-endian bytes travel


def test_many_arrays_in_nested_containers_each_resolve_to_their_own_bytes() -> None:
    arrays = [np.full(i + 1, i, dtype=np.int32) for i in range(20)]
    out = unpack(pack({"list": arrays, "nested": {"x": arrays[3]}}))
    for i, a in enumerate(out["list"]):
        np.testing.assert_array_equal(a, arrays[i])
    np.testing.assert_array_equal(out["nested"]["x"], arrays[3])


def test_numpy_scalars_enums_tuples_and_models_encode_as_plain_values() -> None:
    out = unpack(pack({"s": np.float32(2.5), "i": np.int64(7), "t": (1, 2), "m": Custom(level=Level.LOW, x=2)}))
    assert out == {"s": 2.5, "i": 7, "t": [1, 2], "m": {"level": "low", "x": 4}}


def test_object_arrays_and_unknown_objects_are_rejected_at_pack() -> None:
    with pytest.raises(TypeError):
        pack({"a": np.array([object()])})
    with pytest.raises(TypeError):
        pack({"a": object()})
    assert unpack(pack({"ok": np.arange(3)}))["ok"].tolist() == [0, 1, 2]  # the packer recovered


def test_pack_model_round_trips_with_camel_case_keys_and_zero_copy_values() -> None:
    v = _vector()
    data = pack_model(v)
    doc = unpack(data)
    assert set(doc) == {"device", "windowStart", "names", "values", "sampleRate"}
    back = unpack_model(Vector, data)
    assert back.device == v.device and back.names == v.names
    np.testing.assert_array_equal(back.values, v.values)
    assert np.shares_memory(back.values, np.frombuffer(data, dtype=np.uint8))


def test_pack_model_matches_model_dump_for_models_with_serializers() -> None:
    c = Custom(level=Level.LOW, x=3)
    assert unpack(pack_model(c)) == {"level": "low", "x": 6}


def _ext(payload: bytes) -> bytes:
    return msgpack.packb({"a": msgpack.ExtType(EXT_NDARRAY, payload)})


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_ext(b"\x03"), "truncated"),
        (_ext(b"\x03\x01<f8"), "malformed"),
        (_ext(b"\x01\x00O"), "dtype"),
        (_ext(b"\x03\x00>f8" + bytes(8)), "little-endian"),
        (_ext(b"\x03\x00zz9"), "bad dtype"),
        (_ext(b"\x03\x01<f8" + struct.pack("<Q", 4) + bytes(16)), "needs 32 bytes"),
        (b"\x92\x01", "not a suite message"),
        (b"\xc1", "not a suite message"),
        (msgpack.packb({"a": 1}) + b"\x00", "not a suite message"),
    ],
)
def test_malformed_messages_raise_message_decode_error(data: bytes, match: str) -> None:
    with pytest.raises(MessageDecodeError, match=match):
        unpack(data)


def test_truncated_message_is_rejected() -> None:
    data = pack({"a": np.arange(100.0)})
    with pytest.raises(MessageDecodeError, match="not a suite message"):
        unpack(data[:-8])


def test_foreign_extension_types_pass_through() -> None:
    out = unpack(msgpack.packb({"x": msgpack.ExtType(42, b"raw")}))
    assert out["x"].code == 42 and out["x"].data == b"raw"


def test_unpack_model_names_the_invalid_field() -> None:
    data = pack({"device": "", "windowStart": -1, "names": ["a"], "values": np.zeros(1)})
    with pytest.raises(MessageDecodeError, match="device") as e:
        unpack_model(Vector, data)
    assert "windowStart" in str(e.value)
    with pytest.raises(MessageDecodeError, match="must be a msgpack map"):
        unpack_model(Vector, pack([1, 2]))


async def test_suite_message_over_the_bus_decodes_as_a_view_of_the_received_bytes(bus: NatsBus) -> None:
    got: list[tuple[Vector, bytes]] = []
    dead: list[str] = []

    async def on_msg(msg: Msg) -> None:
        got.append((unpack_model(Vector, msg.data), msg.data))

    async def on_dead(msg: Msg) -> None:
        dead.append(msg.headers["Edgewatch-Reason"])

    await bus.subscribe("edgewatch.test-client.deadletter", on_dead)
    await bus.subscribe("edgewatch.features.vector.>", on_msg)
    await bus.publish("edgewatch.features.vector.pump-1", b"\xc1junk")
    await bus.publish("edgewatch.features.vector.pump-1", pack_model(_vector()))
    await wait_until(lambda: got and dead)
    vec, raw = got[0]
    assert np.shares_memory(vec.values, np.frombuffer(raw, dtype=np.uint8)) and not vec.values.flags.writeable
    assert dead[0].startswith("decode: codec:")
