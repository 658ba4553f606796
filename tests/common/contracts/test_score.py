"""Score wire model: msgpack round trip, camelCase keys, and field-naming decode errors."""

from __future__ import annotations

import msgpack
import pytest

from edgewatch.common.contracts.codec import MessageDecodeError
from edgewatch.common.contracts.score import Score, decode_score, encode_score, encode_score_doc


def _score(**over: object) -> Score:
    base: dict[str, object] = {
        "device": "demo-pump",
        "profile": "pump",
        "model_name": "auto.demo-pump",
        "model_version": "1",
        "model_sha256": "ab" * 32,
        "score": 12.5,
        "threshold": 9.0,
        "is_anomaly": True,
        "window_start": 1_700_000_000_000_000_000,
        "window_end": 1_700_000_001_000_000_000,
        "feature_config_version": "3",
        "origin": 1_700_000_001_000_500_000,
        "sequence": 7,
    }
    base.update(over)
    return Score.model_validate(base)


def test_score_roundtrip_keeps_every_field() -> None:
    s = _score(contributions={"rms": 10.0, "peak": 2.5})
    assert decode_score(encode_score(s)) == s


def test_score_wire_is_a_msgpack_map_of_camelcase_plain_types() -> None:
    doc = msgpack.unpackb(encode_score(_score()))
    assert doc["modelName"] == "auto.demo-pump"
    assert doc["isAnomaly"] is True
    assert doc["windowStart"] == 1_700_000_000_000_000_000
    assert "contributions" not in doc


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xc1", "not msgpack"),
        (msgpack.packb([1, 2]), "must be a msgpack map"),
        (msgpack.packb({"device": "d"}), "modelName"),
        (msgpack.packb({**msgpack.unpackb(encode_score(_score())), "score": "high"}), "score"),
        (msgpack.packb({**msgpack.unpackb(encode_score(_score())), "windowEnd": -1}), "windowEnd"),
    ],
)
def test_score_decode_rejects_malformed_input_naming_the_problem(data: bytes, needle: str) -> None:
    with pytest.raises(MessageDecodeError, match=needle):
        decode_score(data)


def test_score_doc_encoding_matches_model_encoding() -> None:
    s = _score(contributions={"rms": 1.5})
    doc = s.model_dump(by_alias=True, exclude_none=True)
    assert encode_score_doc(doc) == encode_score(s)
    assert decode_score(encode_score_doc(doc)) == s


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"score": 12}, {"score": 12.0}),  # an int score is coerced by the validating path
        ({"isAnomaly": 1}, {"is_anomaly": True}),
        ({"sequence": None}, None),
        ({"device": ""}, None),
        ({"origin": -5}, None),
        ({"contributions": {"rms": 1}}, {"contributions": {"rms": 1.0}}),
        ({"contributions": {"rms": "x"}}, None),
    ],
)
def test_score_decode_coerces_or_rejects_like_the_model(patch: dict[str, object], expected: dict | None) -> None:
    doc = {**msgpack.unpackb(encode_score(_score())), **patch}
    data = msgpack.packb(doc)
    if expected is None:
        with pytest.raises(MessageDecodeError, match="invalid score"):
            decode_score(data)
    else:
        got = decode_score(data)
        assert got == _score().model_copy(update=expected)
        assert got == Score.model_validate(doc)
