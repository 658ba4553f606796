"""FeatureVector: msgpack round trip through the suite codec, zero-copy values, field-naming decode errors."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from edgewatch.common.contracts.codec import MessageDecodeError
from edgewatch.common.contracts.feature import FeatureVector, decode_feature_vector, encode_feature_vector


def _vector(**over: object) -> FeatureVector:
    fields: dict[str, object] = {
        "device": "pump-1",
        "profile": "pump",
        "resources": ["Vibration", "Temperature"],
        "window_start": 1_700_000_000_000_000_000,
        "window_end": 1_700_000_005_000_000_000,
        "window_kind": "tumbling",
        "window_basis": "time",
        "sample_count": 9,
        "sample_counts": [5, 4],
        "names": ["Vibration.mean", "Temperature.mean"],
        "values": np.array([0.25, 71.5]),
        "config_version": "3",
        "flags": ["gap"],
        "sequence": 12,
    }
    fields.update(over)
    return FeatureVector.model_validate(fields)


def test_feature_vector_round_trips_with_values_as_zero_copy_view() -> None:
    fv = _vector()
    data = encode_feature_vector(fv)
    back = decode_feature_vector(data)
    assert back.names == fv.names and back.device == "pump-1" and back.window_end == fv.window_end
    assert back.values.dtype == np.float64 and np.array_equal(back.values, fv.values)
    assert not back.values.flags.writeable  # a view into the message bytes, not a copy
    assert back.as_dict() == {"Vibration.mean": 0.25, "Temperature.mean": 71.5}
    assert back.flags == ["gap"] and back.config_version == "3" and back.sample_counts == [5, 4]


def test_feature_vector_values_bytes_are_raw_little_endian_float64() -> None:
    data = encode_feature_vector(_vector())
    assert np.array([0.25, 71.5], dtype="<f8").tobytes() in data


def test_feature_vector_accepts_plain_msgpack_with_values_as_bytes_or_list() -> None:
    base = {"device": "d", "resources": ["r"], "windowStart": 1, "windowEnd": 2, "sampleCount": 1, "names": ["r.x"]}
    as_bytes = msgpack.packb({**base, "values": np.array([1.5]).tobytes()})
    as_list = msgpack.packb({**base, "values": [1.5]})
    assert decode_feature_vector(as_bytes).values.tolist() == [1.5]
    assert decode_feature_vector(as_list).values.tolist() == [1.5]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x93\x01\x02\x03", "map"),
        (b"\xc1\x00", "codec"),
        (msgpack.packb({"device": "d"}), "resources"),
        (
            msgpack.packb(
                {
                    "device": "d",
                    "resources": ["r"],
                    "windowStart": 1,
                    "windowEnd": 2,
                    "sampleCount": 1,
                    "names": ["a", "b"],
                    "values": [1.0],
                }
            ),
            "values",
        ),
    ],
)
def test_feature_vector_decode_rejects_malformed_input_naming_the_problem(data: bytes, needle: str) -> None:
    with pytest.raises(MessageDecodeError, match=needle):
        decode_feature_vector(data)


def test_feature_vector_rejects_end_before_start() -> None:
    with pytest.raises(ValueError, match="windowEnd"):
        _vector(window_start=10, window_end=5)


def test_feature_vector_trusted_construction_equals_validated_model() -> None:
    fv = _vector()
    fields = {name: getattr(fv, name) for name in FeatureVector.model_fields}
    fast = FeatureVector.trusted(**fields)
    assert fast == fv
    assert encode_feature_vector(fast) == encode_feature_vector(fv)
