"""EdgeX readings -> feature input: a scalar sample, or a block of waveform samples (vectorized decode)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from edgewatch.common.contracts.event import Event, Reading
from edgewatch.common.contracts.eventfast import EventView, ReadingView
from edgewatch.common.contracts.valuetype import ValueType

__all__ = [
    "FEATURES_TAG",
    "MEDIA_F32LE",
    "MEDIA_F64LE",
    "SAMPLE_RATE_TAGS",
    "BlockInput",
    "ScalarInput",
    "Skipped",
    "classify",
]

MEDIA_F32LE: Final = "application/vnd.edgewatch.f32le"
"""mediaType of a Binary reading holding raw little-endian float32 samples."""
MEDIA_F64LE: Final = "application/vnd.edgewatch.f64le"
"""mediaType of a Binary reading holding raw little-endian float64 samples."""
SAMPLE_RATE_TAGS: Final = ("sampleRateHz", "sampleRate")
"""Reading (then event) tags read, in order, for a waveform's sample rate in Hz."""
FEATURES_TAG: Final = "features"
"""Reading tag (copied by device services from the profile resource's ``tags``) with the resource's feature
settings: a waveform spec object without ``resource``, or ``false`` to leave a scalar out of the slow window."""

_BINARY_DTYPES: Final[dict[str, np.dtype[Any]]] = {MEDIA_F32LE: np.dtype("<f4"), MEDIA_F64LE: np.dtype("<f8")}


@dataclass(frozen=True, slots=True)
class ScalarInput:
    """One slow sample."""

    resource: str
    origin: int
    value: float


@dataclass(frozen=True, slots=True)
class BlockInput:
    """A block of waveform samples; ``origin`` is the time of the first sample."""

    resource: str
    origin: int
    samples: NDArray[Any]
    sample_rate: float | None
    profile_spec: Any = None  # the ``features`` tag, when the profile resource carries one


@dataclass(frozen=True, slots=True)
class Skipped:
    """A reading the features service does not use, with the reason (counted)."""

    resource: str
    reason: str


def _sample_rate(reading: Reading | ReadingView, event: Event | EventView) -> float | None:
    for tags in (reading.tags, event.tags):
        for key in SAMPLE_RATE_TAGS:
            raw = tags.get(key)
            if raw is None:
                continue
            try:
                fs = float(raw)
            except (TypeError, ValueError):
                return None
            return fs if math.isfinite(fs) and fs > 0 else None
    return None


def classify(reading: Reading | ReadingView, event: Event | EventView) -> ScalarInput | BlockInput | Skipped:
    """Decide what a reading contributes: numeric scalars are slow samples; numeric arrays and Binary readings
    with an edgewatch sample media type are waveform blocks; anything else (strings, bools, objects, null
    readings, other media types, non-finite scalars, malformed values, scalars tagged ``features: false``) is
    skipped with a reason.
    """
    name = reading.resource_name
    origin = reading.origin or event.origin
    vt = reading.value_type
    if reading.is_null:
        return Skipped(name, "null")
    try:
        if vt.is_numeric_array:
            return BlockInput(
                name, origin, reading.array(), _sample_rate(reading, event), reading.tags.get(FEATURES_TAG)
            )
        if vt is ValueType.BINARY:
            dtype = _BINARY_DTYPES.get(str(reading.media_type).lower())
            data = reading.binary_value
            if dtype is None or not isinstance(data, bytes):
                return Skipped(name, "media_type")
            if len(data) % dtype.itemsize:
                return Skipped(name, "malformed")
            samples = np.frombuffer(data, dtype=dtype)
            return BlockInput(name, origin, samples, _sample_rate(reading, event), reading.tags.get(FEATURES_TAG))
        if vt.is_numeric:
            if reading.tags.get(FEATURES_TAG) is False:
                return Skipped(name, "excluded")
            number = reading.numeric_value()
            if number is None:
                return Skipped(name, "malformed")
            value = float(number)
            return ScalarInput(name, origin, value) if math.isfinite(value) else Skipped(name, "non_finite")
    except ValueError:
        return Skipped(name, "malformed")
    return Skipped(name, "value_type")
