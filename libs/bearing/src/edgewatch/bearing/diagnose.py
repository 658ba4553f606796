"""One window of bearing vibration -> normal / outer / inner / ball, from physics (no learned model).

The envelope spectrum is the features service's (:meth:`EnvelopePlan.envelope_spectrum`, Randall's squared
envelope), computed in a few candidate demodulation bands laid out as fractions of Nyquist. In each band every
fault family gets a score: the **median over its lines** of the line's prominence, the largest envelope-spectrum
amplitude within ``±tolerance`` of the line divided by the **median envelope-spectrum level** between a quarter of
the shaft frequency and the family's top line. A ratio to the median is free of the signal's unit, gain, sample
rate and load; the median over lines asks for two lines of a family, so one coincidental line (a mains or shaft
harmonic) does not make a fault.

Families (``f_r`` from the rpm, multipliers from the geometry, :func:`fault_multipliers`):

- ``outer``: BPFO, 2·BPFO, 3·BPFO (a stationary defect: a clean harmonic series);
- ``inner``: BPFI, 2·BPFI, 3·BPFI;
- ``ball``: BSF, 2·BSF (CWRU's "rolling element" frequency: the ball strikes both races) and FTF, the cage line:
  a ball defect travels with the cage in and out of the load zone, so its impacts are modulated at FTF.

The band with the highest family score wins (a fault-targeted band selection: the resonance a defect excites
depends on the machine, not on the sample rate). Decision (:meth:`Diagnoser.decide`):

1. a family score at ``detect_threshold`` or above: that family (a clear defect line series);
2. else, no repetitive impacts (every band's winsorized spectral kurtosis below ``impulsive_threshold``):
   normal. The window's kurtosis is reported but does not decide: one transient (a knock, a DAQ glitch) makes it
   large, and repeating impacts show in the band statistic, which ignores a single one;
3. else (repetitive impacts without a clear line): the race family whose score reaches ``type_threshold``,
   otherwise ball, whose impacts repeat without locking to a sharp line;
4. else, when a healthy reference level is known for the channel (``reference_rms``, the one learned figure; see
   :data:`HEALTHY_RMS_G`) and the window's RMS is at least ``level_factor`` times it: a fault with neither lines
   nor impacts (an overall-level alarm, as ISO 20816 practice sets one from a machine's healthy baseline), typed
   like rule 3. Small ball defects (CWRU B007 at 12 kHz) raise the broadband level without a line or an impact
   train an envelope can see; a unit-free rule cannot tell them from a healthy machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from edgewatch.bearing.fft import rfft
from edgewatch.bearing.geometry import BearingGeometry, fault_multipliers
from edgewatch.bearing.spectrum import EnvelopePlan
from edgewatch.bearing.timedomain import TIME_FEATURES, time_features

__all__ = [
    "FAMILIES",
    "HEALTHY_RMS_G",
    "VERDICTS",
    "Diagnoser",
    "DiagnosisSettings",
    "WindowDiagnosis",
    "candidate_bands",
    "window_length",
]

FAMILIES: tuple[str, ...] = ("outer", "inner", "ball")
"""Fault families, in score order."""

VERDICTS: tuple[str, ...] = ("normal", *FAMILIES)
"""Every verdict a window or a recording can get."""

_KURTOSIS = TIME_FEATURES.index("kurtosis")
_STD = TIME_FEATURES.index("std")  # the RMS with the mean removed

HEALTHY_RMS_G: dict[str, float] = {"DE_time": 0.0742, "FE_time": 0.0813}
"""The healthy reference level per CWRU channel, in g: the largest window RMS (mean removed) of the healthy
recording in ../shared (``normal_0_97``, 0 hp, 1797 rpm). Learned from ../shared data only; channels without a
healthy recording there (``BA_time``) have none, and rule 4 is off for them. Another rig needs its own baseline."""


@dataclass(frozen=True, slots=True)
class DiagnosisSettings:
    """Decision constants (dimensionless; none depends on the sample rate, the load or the sensor's unit).

    ``detect_threshold``: a family score (median line prominence over the median envelope level) at which a
    window is a fault. White Gaussian noise scores 2.3 on average, at most 3.2 in 150 windows (the largest of a
    few Rayleigh-distributed bins over their median). The one fitted constant: the healthy CWRU baseline in
    ../shared (``normal_0_97``, DE and FE channels, every 50 %-overlapping window, DE geometry at 1796 rpm)
    scores at most 6.5, from deterministic lines that sit near 2·BPFI and 3·BPFI in one band; 8 is that maximum
    with a 25 % margin.
    ``impulsive_threshold``: the spectral kurtosis of a band's squared envelope, winsorized at its 99th
    percentile, at which the band carries repetitive impacts. A Gaussian band's squared envelope is exponential
    (spectral kurtosis 0; winsorized -0.07 with a spread of 0.04 at 12 kHz, 0.02 at 48 kHz; the largest over the
    bands of 150 white-noise windows: 0.10); winsorizing removes a single transient (a click: less than 1 % of
    the window) but not impacts repeating at a defect rate (several percent of the window). The healthy CWRU
    baseline reaches 0.11, the CWRU fault recordings that have impacts 0.5-5; 0.5 keeps a wide margin.
    ``type_threshold``: in a window found by impulsiveness alone, a race (outer/inner) family score at which the
    race is named; below it the window is a ball fault (a ball strikes the races only while its defect faces them
    and its spin axis wanders, so its impacts repeat but lock to no sharp line). ``0.75·detect_threshold``.
    ``tolerance``: the search half-width around a line as a fraction of its frequency (slip of the rolling
    elements makes real lines differ from the kinematic ones by 1-2 %); at least one bin.
    ``bands``: candidate demodulation bands, ``(start, width)`` as fractions of Nyquist.
    ``level_factor``: the overall-level alarm (rule 4) at this multiple of the healthy reference RMS: 1.5 (+3.5 dB)
    leaves the healthy baseline's windows (spread 0.071-0.074 g on DE) a 50 % margin. Chosen knowing that the
    shared ball-fault recordings sit at 1.8-2.0x on DE (1.3x on FE, so rule 4 misses them there).
    """

    detect_threshold: float = 8.0
    impulsive_threshold: float = 0.5
    type_threshold: float = 6.0
    winsor_quantile: float = 0.99
    tolerance: float = 0.015
    level_factor: float = 1.5
    bands: tuple[tuple[float, float], ...] = field(
        default=((0.05, 0.25), (0.175, 0.25), (0.3, 0.25), (0.425, 0.25), (0.55, 0.25), (0.675, 0.25))
    )


@dataclass(frozen=True, slots=True)
class WindowDiagnosis:
    """The verdict of one window, with the evidence behind it."""

    verdict: str
    scores: dict[str, float]
    """Best score per family (over the candidate bands)."""
    kurtosis: float
    impulsiveness: float
    """The largest winsorized spectral kurtosis over the candidate bands."""
    band_hz: tuple[float, float]
    """The demodulation band of the winning family score."""
    level_ratio: float = 0.0
    """The window's RMS over the channel's healthy reference (0 when none is known)."""


def window_length(fs: float) -> int:
    """Window length for sample rate ``fs``: the power of two at or above half a second (12 kHz -> 8192)."""
    return 1 << max(8, math.ceil(math.log2(fs / 2.0)))


def candidate_bands(fs: float, settings: DiagnosisSettings) -> list[tuple[float, float]]:
    """The demodulation bands in Hz for sample rate ``fs``."""
    nyq = fs / 2.0
    return [(a * nyq, min(a + w, 1.0) * nyq) for a, w in settings.bands]


@dataclass(frozen=True, slots=True)
class _Family:
    bins: NDArray[np.intp]  # (lines, width) bins searched per line, padded by repeating the centre
    lo: int  # baseline bins [lo, hi)
    hi: int


@dataclass(frozen=True, slots=True)
class _Band:
    plan: EnvelopePlan
    hz: tuple[float, float]
    families: dict[str, _Family]


class Diagnoser:
    """Diagnoses ``n``-sample windows at ``fs`` Hz of a bearing with ``geometry`` on a shaft at ``shaft_hz``."""

    def __init__(
        self,
        n: int,
        fs: float,
        geometry: BearingGeometry,
        shaft_hz: float,
        settings: DiagnosisSettings | None = None,
        reference_rms: float | None = None,
    ) -> None:
        if n < 256 or fs <= 0.0 or shaft_hz <= 0.0:
            raise ValueError(f"need n >= 256, fs > 0 and shaft_hz > 0 (got n={n}, fs={fs}, shaft_hz={shaft_hz})")
        self.n = n
        self.fs = fs
        self.shaft_hz = shaft_hz
        self.settings = settings or DiagnosisSettings()
        self.reference_rms = reference_rms if reference_rms is not None and reference_rms > 0.0 else None
        mult = fault_multipliers(geometry)
        bpfo, bpfi, bsf, ftf = (m * shaft_hz for m in mult)
        self.lines: dict[str, list[float]] = {
            "outer": [bpfo, 2 * bpfo, 3 * bpfo],
            "inner": [bpfi, 2 * bpfi, 3 * bpfi],
            "ball": [bsf, 2 * bsf, ftf],
        }
        self.bands: list[_Band] = []
        for band in candidate_bands(fs, self.settings):
            plan = EnvelopePlan.build(n, fs, band, mult, 1, self.settings.tolerance)
            families = {f: fam for f in FAMILIES if (fam := self._family(plan, self.lines[f])) is not None}
            if families:
                self.bands.append(_Band(plan, band, families))
        if not self.bands:
            raise ValueError(
                f"no demodulation band at fs={fs} Hz reaches the defect lines of a {shaft_hz:.3g} Hz shaft "
                "(sample rate too low for this speed)"
            )
        self._scratch = (np.empty(n), np.empty(n), np.ones(n))
        self._time = np.empty(len(TIME_FEATURES))

    def _family(self, plan: EnvelopePlan, lines: list[float]) -> _Family | None:
        """Bins of ``lines`` in ``plan``'s envelope spectrum; None when a line lies beyond its top bin."""
        top = plan.m // 2  # last bin of the envelope spectrum
        tol = self.settings.tolerance
        centre = [round(f / plan.df) for f in lines]
        half = [max(1, math.ceil(tol * f / plan.df)) for f in lines]
        if max(c + h for c, h in zip(centre, half, strict=True)) >= top or min(centre) < 2:
            return None
        width = max(half)
        rows = [[c + max(-h, min(h, o)) for o in range(-width, width + 1)] for c, h in zip(centre, half, strict=True)]
        lo = max(1, math.floor(0.25 * self.shaft_hz / plan.df))
        hi = min(top, max(c + h for c, h in zip(centre, half, strict=True)) + 1)
        return _Family(np.array(rows, dtype=np.intp), lo, hi)

    def scores_of(self, es: NDArray[np.float64], band: _Band) -> dict[str, float]:
        """Family scores in one band's envelope spectrum ``es``."""
        out: dict[str, float] = {}
        for name, fam in band.families.items():
            level = float(np.median(es[fam.lo : fam.hi]))
            peaks = es[fam.bins].max(axis=1)
            out[name] = float(np.median(peaks)) / level if level > 0.0 else 0.0
        return out

    def diagnose(self, x: NDArray[np.float64]) -> WindowDiagnosis:
        """The verdict of one window ``x`` (``n`` samples)."""
        if x.shape != (self.n,):
            raise ValueError(f"window must have shape ({self.n},), got {x.shape}")
        time_features(x, self._time, self._scratch)
        kurt = float(self._time[_KURTOSIS])
        spec = rfft(x - float(self._time[0]))
        best = dict.fromkeys(FAMILIES, 0.0)
        best_band = self.bands[0].hz
        top = 0.0
        impulsive = -math.inf
        for band in self.bands:
            e = band.plan.squared_envelope(spec)
            impulsive = max(impulsive, self.impulsiveness(e))
            scores = self.scores_of(band.plan.envelope_spectrum(spec, e), band)
            for name, value in scores.items():
                best[name] = max(best[name], value)
                if value > top:
                    top, best_band = value, band.hz
        ratio = float(self._time[_STD]) / self.reference_rms if self.reference_rms else 0.0
        return WindowDiagnosis(self.decide(best, impulsive, ratio), best, kurt, impulsive, best_band, ratio)

    def impulsiveness(self, e: NDArray[np.float64]) -> float:
        """Spectral kurtosis of the squared envelope ``e`` winsorized at ``winsor_quantile`` (0 for Gaussian)."""
        k = min(e.shape[0] - 1, int(self.settings.winsor_quantile * e.shape[0]))
        cap = float(np.partition(e, k)[k])
        c = np.minimum(e, cap)
        m1 = float(np.add.reduce(c)) / c.shape[0]
        m2 = float(np.dot(c, c)) / c.shape[0]
        return m2 / (m1 * m1) - 2.0 if m1 > 0.0 else 0.0

    def decide(self, scores: dict[str, float], impulsiveness: float, level_ratio: float = 0.0) -> str:
        """The verdict from the family scores, the band impulsiveness and the overall level (see the module doc)."""
        st = self.settings
        winner = max(FAMILIES, key=lambda f: scores[f])
        if scores[winner] >= st.detect_threshold:
            return winner
        if impulsiveness < st.impulsive_threshold and level_ratio < st.level_factor:
            return "normal"
        race = max(("outer", "inner"), key=lambda f: scores[f])
        return race if scores[race] >= st.type_threshold else "ball"
