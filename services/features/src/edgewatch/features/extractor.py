"""Feature extractors: a waveform window -> time + spectral + envelope features; a slow multivariate window."""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from edgewatch.bearing.fft import rfft
from edgewatch.bearing.geometry import fault_multipliers
from edgewatch.bearing.spectrum import EnvelopePlan, SpectrumPlan, envelope_names, spectrum_names
from edgewatch.bearing.timedomain import TIME_FEATURES, time_features
from edgewatch.features.spec import ScalarSpec, WaveformSpec

__all__ = ["DEFAULT_BAND_COUNT", "ScalarExtractor", "WaveformExtractor", "default_bands"]


DEFAULT_BAND_COUNT = 8


def default_bands(fs: float, count: int = DEFAULT_BAND_COUNT) -> list[tuple[float, float]]:
    """``count`` equal bands from 0 to Nyquist (used when a waveform configures none)."""
    edges = np.linspace(0.0, fs / 2.0, count + 1)
    bands = [(float(a), float(b)) for a, b in itertools.pairwise(edges)]
    bands[-1] = (bands[-1][0], math.nextafter(fs / 2.0, math.inf))  # keep the Nyquist bin in the top band
    return bands


class WaveformExtractor:
    """Features of ``n``-sample windows of one waveform resource at ``fs`` Hz (plans built once)."""

    def __init__(self, spec: WaveformSpec, n: int, fs: float) -> None:
        self.n = n
        self.fs = fs
        bands = spec.bands or default_bands(fs)
        self.spectrum = SpectrumPlan.build(n, fs, bands)
        env = spec.envelope
        self.envelope: EnvelopePlan | None = None
        self.fixed_shaft_hz: float | None = None
        self.shaft_resource: str | None = None
        self.shaft_scale = 1.0
        local = [*TIME_FEATURES, *spectrum_names(bands)]
        if env is not None:
            self.envelope = EnvelopePlan.build(
                n, fs, env.band_hz, fault_multipliers(env.bearing.geometry()), env.harmonics, env.tolerance
            )
            self.fixed_shaft_hz = env.shaft.fixed_hz()
            self.shaft_resource = env.shaft.resource
            self.shaft_scale = 1.0 / 60.0 if env.shaft.resource_units == "rpm" else 1.0
            local += envelope_names()
        self.names = [f"{spec.resource}.{name}" for name in local]
        self._t = len(TIME_FEATURES)
        self._s = self._t + self.spectrum.width
        self._bins_for = -1.0
        self._bins: NDArray[np.intp] | None = None
        self._scratch = (np.empty(n), np.empty(n), np.ones(n))

    def shaft_hz(self, latest: dict[str, float]) -> float:
        """The shaft frequency for the next window: fixed, or the latest value of the speed resource (0 if none)."""
        if self.fixed_shaft_hz is not None:
            return self.fixed_shaft_hz
        if self.shaft_resource is None:
            return 0.0
        return latest.get(self.shaft_resource, 0.0) * self.shaft_scale

    def compute(self, x: NDArray[np.float64], shaft_hz: float = 0.0) -> NDArray[np.float64]:
        """Features of one window ``x`` (float64, ``n`` samples), in :attr:`names` order."""
        out = np.empty(len(self.names))
        time_features(x, out, self._scratch)
        spec = rfft(x)
        self.spectrum.compute(spec, out[self._t : self._s])
        env = self.envelope
        if env is not None:
            if shaft_hz != self._bins_for:
                self._bins = env.fault_bins(shaft_hz) if shaft_hz > 0.0 else None
                self._bins_for = shaft_hz
            env.compute(spec, shaft_hz, self._bins, out[self._s :])
        return out


class ScalarExtractor:
    """Per-resource statistics of a slow multivariate window, with a rolling z-score across windows.

    ``zscore`` of a resource = (this window's mean - mean of the previous ``zscore_history`` window means) /
    their standard deviation; 0 until two previous windows exist, when that deviation is 0, and after a gap
    (the history is cleared when a window is flagged ``gap``).
    """

    def __init__(self, spec: ScalarSpec) -> None:
        self.spec = spec
        self.features = list(spec.features)
        self._history: dict[str, deque[float]] = {}

    def names(self, resources: Sequence[str]) -> list[str]:
        """Feature names for a window over ``resources``."""
        return [f"{r}.{f}" for r in resources for f in self.features]

    def reset_history(self) -> None:
        """Forget previous window means (after a gap)."""
        self._history.clear()

    def compute(self, resources: Sequence[str], samples: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
        """Features of one window: ``samples[i]`` are the time-ordered values of ``resources[i]`` (non-empty)."""
        nf = len(self.features)
        out = np.empty(len(resources) * nf)
        for i, (res, x) in enumerate(zip(resources, samples, strict=True)):
            n = x.shape[0]
            mean = float(np.add.reduce(x)) / n
            d = x - mean
            std = math.sqrt(float(np.dot(d, d)) / n)
            hist = self._history.get(res)
            if hist is None:
                hist = self._history[res] = deque(maxlen=self.spec.zscore_history)
            z = 0.0
            if len(hist) >= 2:
                h = np.fromiter(hist, dtype=np.float64, count=len(hist))
                hs = float(h.std())
                z = (mean - float(h.mean())) / hs if hs > 0.0 else 0.0
            hist.append(mean)
            values = {
                "mean": mean,
                "std": std,
                "rms": math.sqrt(float(np.dot(x, x)) / n),
                "min": float(x.min()),
                "max": float(x.max()),
                "delta": float(x[-1] - x[0]),
                "zscore": z,
            }
            out[i * nf : (i + 1) * nf] = [values[f] for f in self.features]
        return out
