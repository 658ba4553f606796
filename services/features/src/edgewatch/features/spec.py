"""Feature configuration of one device (pydantic, camelCase): windows, spectral bands, envelope, bearings.

Invalid input fails validation with the offending field named (``waveforms.0.envelope.bandHz``); the REST
resource answers it as an EdgeX 400.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from edgewatch.bearing.geometry import BearingGeometry, fault_multipliers

__all__ = [
    "MAX_BANDS",
    "MAX_WINDOW_SAMPLES",
    "SCALAR_FEATURES",
    "BearingSpec",
    "EnvelopeSpec",
    "FeatureConfig",
    "ScalarFeature",
    "ScalarSpec",
    "ShaftSpec",
    "WaveformSpec",
    "WindowSpec",
]

MAX_WINDOW_SAMPLES = 1 << 20
"""Longest waveform window (samples): its buffer and FFT stay within tens of MB and a fraction of a second."""
MAX_BANDS = 64
"""Energy bands per waveform at most."""

ScalarFeature = Literal["mean", "std", "rms", "min", "max", "delta", "zscore"]
SCALAR_FEATURES: tuple[ScalarFeature, ...] = ("mean", "std", "rms", "min", "max", "delta", "zscore")
"""Per-resource features of a slow-signal window (``delta`` = last - first, ``zscore`` see README)."""


class Spec(BaseModel):
    """Base of the config models: camelCase keys, unknown keys rejected (a typo is an error, not a no-op)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class WindowSpec(Spec):
    """A window: ``size`` and ``hop`` in samples (``basis`` count) or in milliseconds (``basis`` time).

    ``hop`` defaults to ``size`` (tumbling); ``hop < size`` makes sliding windows.
    """

    basis: Literal["count", "time"] = "count"
    size: float = Field(gt=0, description="Window length: samples (count) or milliseconds (time)")
    hop: float | None = Field(None, gt=0, description="Step between window starts (default: size = tumbling)")

    @model_validator(mode="after")
    def _check(self) -> WindowSpec:
        if self.basis == "count" and self.size != int(self.size):
            raise ValueError(f"size: a count window needs a whole number of samples, got {self.size:g}")
        if self.basis == "count" and self.size > MAX_WINDOW_SAMPLES:
            raise ValueError(f"size: {self.size:g} samples is more than {MAX_WINDOW_SAMPLES}")
        if self.hop is not None:
            if self.hop > self.size:
                raise ValueError(f"hop: {self.hop:g} is larger than size {self.size:g}")
            if self.basis == "count" and self.hop != int(self.hop):
                raise ValueError(f"hop: a count window needs a whole number of samples, got {self.hop:g}")
        return self

    @property
    def step(self) -> float:
        """The hop, defaulted."""
        return self.hop if self.hop is not None else self.size

    @property
    def kind(self) -> Literal["tumbling", "sliding"]:
        """tumbling when hop equals size."""
        return "tumbling" if self.step == self.size else "sliding"


class ShaftSpec(Spec):
    """Shaft speed: fixed (``hz`` or ``rpm``) or the latest value of another resource of the same device."""

    hz: float | None = Field(None, gt=0, description="Fixed shaft frequency in Hz")
    rpm: float | None = Field(None, gt=0, description="Fixed shaft speed in rev/min")
    resource: str | None = Field(None, min_length=1, description="Resource whose latest value is the speed")
    resource_units: Literal["rpm", "hz"] = Field("rpm", description="Units of that resource")

    @model_validator(mode="after")
    def _one(self) -> ShaftSpec:
        given = [k for k in ("hz", "rpm", "resource") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"hz: give exactly one of hz, rpm, resource (got {', '.join(given) or 'none'})")
        return self

    def fixed_hz(self) -> float | None:
        """The fixed shaft frequency, or None when it is read from a resource."""
        if self.hz is not None:
            return self.hz
        return self.rpm / 60.0 if self.rpm is not None else None


class BearingSpec(Spec):
    """Rolling-bearing geometry (diameters in any one unit)."""

    balls: int = Field(ge=1, le=200, description="Number of rolling elements")
    ball_diameter: float = Field(gt=0, description="Rolling-element diameter d")
    pitch_diameter: float = Field(gt=0, description="Pitch diameter D")
    contact_angle_deg: float = Field(0.0, ge=0, lt=90, description="Contact angle (0 for deep groove)")

    @model_validator(mode="after")
    def _ratio(self) -> BearingSpec:
        if self.ball_diameter >= self.pitch_diameter:
            raise ValueError("ballDiameter: must be smaller than pitchDiameter")
        return self

    def geometry(self) -> BearingGeometry:
        """As a :class:`BearingGeometry`."""
        return BearingGeometry(self.balls, self.ball_diameter, self.pitch_diameter, self.contact_angle_deg)


class EnvelopeSpec(Spec):
    """Envelope analysis: demodulation band, bearing and shaft speed for the BPFO/BPFI/BSF/FTF features."""

    band_hz: tuple[float, float] = Field(description="Demodulation band [lo, hi) in Hz (a resonance band)")
    bearing: BearingSpec
    shaft: ShaftSpec
    harmonics: int = Field(3, ge=1, le=10, description="Harmonics of each defect frequency summed")
    tolerance: float = Field(0.02, ge=0, le=0.2, description="Search ± this fraction of each line frequency")

    @model_validator(mode="after")
    def _band(self) -> EnvelopeSpec:
        lo, hi = self.band_hz
        if not 0 <= lo < hi:
            raise ValueError(f"bandHz: need 0 <= lo < hi, got [{lo:g}, {hi:g}]")
        return self


class WaveformSpec(Spec):
    """A high-rate resource (Float32Array / Float64Array / Binary blocks of samples)."""

    resource: str = Field(min_length=1, description="Resource name")
    sample_rate_hz: float | None = Field(None, gt=0, description="Sample rate; None = from the reading tag")
    window: WindowSpec = Field(default_factory=lambda: WindowSpec(basis="count", size=4096))
    bands: list[tuple[float, float]] = Field(default_factory=list, description="Energy bands [lo, hi) Hz")
    envelope: EnvelopeSpec | None = None
    max_gap_samples: int = Field(256, ge=0, description="Timestamp slack (samples) before a gap resets the window")

    @model_validator(mode="after")
    def _check(self) -> WaveformSpec:
        if len(self.bands) > MAX_BANDS:
            raise ValueError(f"bands: {len(self.bands)} bands is more than {MAX_BANDS}")
        seen: set[tuple[float, float]] = set()
        for i, (lo, hi) in enumerate(self.bands):
            if not 0 <= lo < hi:
                raise ValueError(f"bands.{i}: need 0 <= lo < hi, got [{lo:g}, {hi:g}]")
            if (lo, hi) in seen:
                raise ValueError(f"bands.{i}: [{lo:g}, {hi:g}] is listed twice")
            seen.add((lo, hi))
        fs = self.sample_rate_hz
        if fs is not None:
            n = self.samples(fs)
            if n < 8:
                raise ValueError(f"window.size: {n} samples at {fs:g} Hz; need at least 8")
            if n > MAX_WINDOW_SAMPLES:
                raise ValueError(f"window.size: {n} samples at {fs:g} Hz is more than {MAX_WINDOW_SAMPLES}")
            env = self.envelope
            if env is not None and env.band_hz[0] >= fs / 2:
                raise ValueError(f"envelope.bandHz: starts at or above Nyquist ({fs / 2:g} Hz)")
            shaft = env.shaft.fixed_hz() if env is not None else None
            if env is not None and shaft is not None:
                width = min(env.band_hz[1], fs / 2) - env.band_hz[0]
                top = max(fault_multipliers(env.bearing.geometry())) * shaft * env.harmonics * (1 + env.tolerance)
                if top >= width:
                    raise ValueError(
                        f"envelope.harmonics: the highest line ({top:.1f} Hz) is above the envelope bandwidth "
                        f"({width:g} Hz); widen bandHz or lower harmonics"
                    )
        return self

    def samples(self, fs: float) -> int:
        """Window length in samples at ``fs``."""
        w = self.window
        return int(w.size) if w.basis == "count" else round(w.size * fs / 1000.0)

    def hop_samples(self, fs: float) -> int:
        """Hop in samples at ``fs`` (at least 1)."""
        w = self.window
        return max(1, int(w.step) if w.basis == "count" else round(w.step * fs / 1000.0))


class ScalarSpec(Spec):
    """Slow scalar signals of a device combined into one multivariate window."""

    resources: list[str] | None = Field(None, description="Resources in the window; None = every numeric scalar")
    window: WindowSpec = Field(default_factory=lambda: WindowSpec(basis="time", size=5000))
    features: list[ScalarFeature] = Field(default_factory=lambda: list(SCALAR_FEATURES), min_length=1)
    zscore_history: int = Field(20, ge=2, le=10000, description="Previous windows the z-score compares against")
    max_gap_ms: float = Field(5000.0, gt=0, description="A larger step between samples flags the window 'gap'")
    lateness_ms: float = Field(1000.0, ge=0, description="Wait this long past a time window's end for stragglers")
    min_samples: int = Field(1, ge=1, description="Fewer samples of any resource drops the window (counted)")
    clock: str | None = Field(None, description="Count windows: the resource whose samples are counted")

    @model_validator(mode="after")
    def _check(self) -> ScalarSpec:
        if self.resources is not None:
            if len(set(self.resources)) != len(self.resources):
                raise ValueError("resources: names must be unique")
            if self.clock is not None and self.clock not in self.resources:
                raise ValueError(f"clock: {self.clock!r} is not one of resources")
        if len(set(self.features)) != len(self.features):
            raise ValueError("features: names must be unique")
        return self


class FeatureConfig(Spec):
    """The feature configuration of one device. With none at all, ``FeatureConfig()`` is the default."""

    waveforms: list[WaveformSpec] = Field(default_factory=list, description="High-rate resources")
    scalar: ScalarSpec | None = Field(default_factory=ScalarSpec, description="Slow-signal window; null = off")

    @model_validator(mode="after")
    def _unique(self) -> FeatureConfig:
        seen: set[str] = set()
        for i, w in enumerate(self.waveforms):
            if w.resource in seen:
                raise ValueError(f"waveforms.{i}.resource: {w.resource!r} is configured twice")
            seen.add(w.resource)
        if self.scalar is not None and self.scalar.resources is not None:
            both = seen.intersection(self.scalar.resources)
            if both:
                raise ValueError(f"scalar.resources: {sorted(both)} are also waveforms")
        return self
