"""decode_feature_values: a FeatureVector message read into plain floats (no numpy), the fields a viewer needs."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

from edgewatch.common.contracts.codec import MessageDecodeError, pack
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.common.contracts.featurevalues import FeatureValues, decode_feature_values


def _vector(**over: object) -> FeatureVector:
    fields: dict[str, object] = {
        "device": "pump-1",
        "resources": ["Vibration"],
        "window_start": 10,
        "window_end": 20,
        "sample_count": 4,
        "names": ["Vibration.mean", "Vibration.rms"],
        "values": np.array([0.25, -71.5]),
        "origin": 30,
        "correlation_id": "c-1",
    }
    fields.update(over)
    return FeatureVector.model_validate(fields)


def test_reads_what_encode_feature_vector_writes() -> None:
    got = decode_feature_values(encode_feature_vector(_vector()))
    assert got == FeatureValues("pump-1", ["Vibration.mean", "Vibration.rms"], [0.25, -71.5], 20, 30, "c-1")
    assert all(type(v) is float for v in got.values)


def test_reads_raw_float64_bytes_and_lists_as_the_model_accepts_them() -> None:
    doc = {"device": "d", "names": ["a", "b"], "windowEnd": 5}
    raw = decode_feature_values(pack({**doc, "values": np.array([1.5, 2.0], "<f8").tobytes()}))
    listed = decode_feature_values(msgpack.packb({**doc, "values": [1.5, 2]}))
    assert raw.values == listed.values == [1.5, 2.0] and raw.origin == 0 and raw.correlation_id == ""


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"device": "d", "names": ["a"], "values": [1.0, 2.0]}, "2 values for 1 names"),
        ({"device": "", "names": [], "values": []}, "device"),
        ({"device": "d", "names": [1], "values": [1.0]}, "names"),
        ({"device": "d", "names": ["a"], "values": np.array([1], "<i4")}, "<f8"),
        ({"device": "d", "names": ["a"], "values": b"1234567"}, "whole number"),
        ({"device": "d", "names": ["a"], "values": [1.0], "windowEnd": -1}, "windowEnd"),
    ],
)
def test_refuses_a_message_it_cannot_read_naming_the_field(doc: dict[str, object], error: str) -> None:
    with pytest.raises(MessageDecodeError, match=error):
        decode_feature_values(pack(doc))


def test_refuses_what_is_not_a_msgpack_map() -> None:
    with pytest.raises(MessageDecodeError):
        decode_feature_values(b"\xc1")
    with pytest.raises(MessageDecodeError, match="map"):
        decode_feature_values(msgpack.packb([1, 2]))
