"""Readings -> feature input: which readings are slow samples, which are waveform blocks, which are skipped."""

from __future__ import annotations

import numpy as np
import pytest

from edgewatch.common.contracts.event import Event, Reading, new_event
from edgewatch.features.readings import MEDIA_F32LE, MEDIA_F64LE, BlockInput, ScalarInput, Skipped, classify

T = 1_700_000_000_000_000_000


def _event(reading: Reading, tags: dict | None = None) -> Event:
    return Event.model_validate_json(new_event("d", "p", "s", [reading], origin=T, tags=tags).to_json())


def _one(reading: Reading, tags: dict | None = None):
    ev = _event(reading, tags)  # through JSON, as it arrives on the bus
    return classify(ev.readings[0], ev)


@pytest.mark.parametrize(
    ("value_type", "value", "expected"),
    [("Float32", 39.5, 39.5), ("Float64", -1e-3, -1e-3), ("Int16", -12, -12.0), ("Uint32", 7, 7.0)],
)
def test_numeric_scalar_readings_are_slow_samples(value_type: str, value: float, expected: float) -> None:
    item = _one(Reading.simple("d", "p", "r", value_type, value, origin=T + 5))
    assert item == ScalarInput("r", T + 5, pytest.approx(expected))


@pytest.mark.parametrize(
    ("reading", "reason"),
    [
        (Reading.simple("d", "p", "r", "Bool", True), "value_type"),
        (Reading.simple("d", "p", "r", "String", "on"), "value_type"),
        (Reading.null("d", "p", "r", "Float32"), "null"),
        (Reading.simple("d", "p", "r", "Float64", float("nan")), "non_finite"),
        (Reading.binary("d", "p", "r", b"\xff\xd8", "image/jpeg"), "media_type"),
        (Reading.binary("d", "p", "r", b"\x00" * 6, MEDIA_F32LE), "malformed"),
        (Reading.object("d", "p", "r", {"a": 1}), "value_type"),
    ],
)
def test_other_readings_are_skipped_with_a_reason(reading: Reading, reason: str) -> None:
    assert _one(reading) == Skipped("r", reason)


def test_float_array_reading_is_a_block_with_the_sample_rate_from_event_tags() -> None:
    samples = np.array([1.5, 2.0, -0.25], dtype=np.float32)
    item = _one(Reading.simple("d", "p", "acc", "Float32Array", samples, origin=0), tags={"sampleRateHz": "25600"})
    assert isinstance(item, BlockInput) and item.origin == T and item.sample_rate == 25600.0
    np.testing.assert_array_equal(item.samples, samples)


@pytest.mark.parametrize(("media", "dtype"), [(MEDIA_F32LE, "<f4"), (MEDIA_F64LE, "<f8")])
def test_binary_sample_readings_decode_as_raw_little_endian(media: str, dtype: str) -> None:
    samples = np.linspace(-1, 1, 64).astype(dtype)
    reading = Reading.binary("d", "p", "acc", samples.tobytes(), media, origin=T + 1, tags={"sampleRateHz": 12000})
    item = _one(reading)
    assert isinstance(item, BlockInput) and item.sample_rate == 12000.0 and item.origin == T + 1
    np.testing.assert_array_equal(item.samples, samples)


def test_block_without_a_usable_sample_rate_tag_has_none() -> None:
    reading = Reading.simple("d", "p", "acc", "Float64Array", [1.0, 2.0], tags={"sampleRateHz": "fast"})
    item = _one(reading)
    assert isinstance(item, BlockInput) and item.sample_rate is None


def test_features_tag_rides_on_blocks_and_excludes_tagged_scalars() -> None:
    tag = {"window": {"size": 1024}}
    reading = Reading.simple("d", "p", "acc", "Float32Array", [1.0, 2.0], tags={"features": tag, "sampleRateHz": 1e3})
    item = _one(reading)
    assert isinstance(item, BlockInput) and item.profile_spec == tag
    assert _one(Reading.simple("d", "p", "r", "Float32", 1.0, tags={"features": False})) == Skipped("r", "excluded")
