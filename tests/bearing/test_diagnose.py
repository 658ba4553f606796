"""Physics, not data fitting: synthetic bearings with a known defect rate are classified by the line they carry."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from numpy.typing import NDArray

from edgewatch.bearing.diagnose import Diagnoser, DiagnosisSettings, window_length
from edgewatch.bearing.geometry import BearingGeometry, fault_multipliers

SKF_6205 = BearingGeometry(9, 0.3126, 1.537)  # CWRU's drive-end bearing
SKF_6203 = BearingGeometry(8, 0.2656, 1.122)  # its fan-end bearing


def bearing_signal(
    fs: float,
    seconds: float,
    defect_hz: float,
    *,
    shaft_hz: float = 0.0,
    depth: float = 0.0,
    resonance_hz: float = 3500.0,
    noise: float = 1.0,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Impacts at ``defect_hz`` (1 % random slip) ringing a resonance, amplitude-modulated at ``shaft_hz`` by
    ``depth`` (an inner-race defect passing through the load zone), in white noise of std ``noise``."""
    rng = np.random.default_rng(seed)
    n = round(fs * seconds)
    period = fs / defect_hz
    times = np.cumsum(period * (1.0 + 0.01 * rng.standard_normal(int(n / period) + 2)))
    times = times[times < n - 1]
    impulses = np.zeros(n)
    amp = 1.0 + depth * np.cos(2.0 * np.pi * shaft_hz * times / fs)
    impulses[times.astype(np.intp)] = amp
    t = np.arange(round(0.004 * fs)) / fs
    ring = np.exp(-t * 900.0) * np.sin(2.0 * np.pi * resonance_hz * t)
    x = scipy.signal.fftconvolve(impulses, ring)[:n]
    x *= 3.0 / float(np.std(x))
    return x + noise * rng.standard_normal(n)


def impact(fs: float, resonance_hz: float = 3500.0) -> NDArray[np.float64]:
    """One impact ringing a resonance (time constant 0.4 ms), 4 ms long."""
    t = np.arange(round(0.004 * fs)) / fs
    return np.exp(-t * 2500.0) * np.sin(2.0 * np.pi * resonance_hz * t) * 10.0


def windows(d: Diagnoser, x: NDArray[np.float64]) -> list[str]:
    return [d.diagnose(x[s : s + d.n]).verdict for s in range(0, x.shape[0] - d.n + 1, d.n // 2)]


@pytest.mark.parametrize(
    ("fs", "rpm", "geometry", "name"),
    [(12000.0, 1797.0, SKF_6205, "6205"), (48000.0, 1730.0, SKF_6203, "6203"), (25600.0, 1200.0, SKF_6205, "6205")],
)
def test_an_outer_race_impact_train_at_bpfo_is_outer_and_at_bpfi_with_shaft_modulation_is_inner(
    fs: float, rpm: float, geometry: BearingGeometry, name: str
) -> None:
    shaft = rpm / 60.0
    bpfo, bpfi, _, _ = (m * shaft for m in fault_multipliers(geometry))
    d = Diagnoser(window_length(fs), fs, geometry, shaft)
    outer = windows(d, bearing_signal(fs, 2.0, bpfo, seed=1))
    inner = windows(d, bearing_signal(fs, 2.0, bpfi, shaft_hz=shaft, depth=0.8, seed=2))
    assert outer and set(outer) == {"outer"}, (name, outer)
    assert inner and set(inner) == {"inner"}, (name, inner)


@pytest.mark.parametrize("fs", [12000.0, 48000.0])
def test_the_line_decides_the_type_when_the_signal_is_not_impulsive(fs: float) -> None:
    """Impulsiveness off (threshold unreachable): the verdict comes from the envelope lines alone."""
    shaft = 1797.0 / 60.0
    bpfo, bpfi, _, _ = (m * shaft for m in fault_multipliers(SKF_6205))
    settings = DiagnosisSettings(impulsive_threshold=1e9)
    d = Diagnoser(window_length(fs), fs, SKF_6205, shaft, settings)
    x = bearing_signal(fs, 2.0, bpfi, shaft_hz=shaft, depth=0.5, noise=6.0, seed=3)
    diag = d.diagnose(x[: d.n])
    assert diag.verdict == "inner"
    assert diag.scores["inner"] >= settings.detect_threshold > diag.scores["outer"]
    assert diag.kurtosis < 4.0  # hardly impulsive in time either
    y = bearing_signal(fs, 2.0, bpfo, noise=6.0, seed=4)
    assert d.diagnose(y[: d.n]).verdict == "outer"


@pytest.mark.parametrize("fs", [12000.0, 48000.0])
def test_noise_with_shaft_harmonics_and_one_click_per_window_is_normal(fs: float) -> None:
    shaft = 1797.0 / 60.0
    d = Diagnoser(window_length(fs), fs, SKF_6205, shaft)
    rng = np.random.default_rng(5)
    n = round(2 * fs)
    t = np.arange(n) / fs
    x = rng.standard_normal(n) + sum(2.0 / k * np.sin(2 * np.pi * k * shaft * t + k) for k in range(1, 6))
    ring = impact(fs)
    for start in range(d.n // 3, n - ring.shape[0], d.n):  # one click in every window
        x[start : start + ring.shape[0]] += 4.0 * ring
    diag = [d.diagnose(x[s : s + d.n]) for s in range(0, n - d.n + 1, d.n // 2)]
    assert {w.verdict for w in diag} == {"normal"}
    assert min(w.kurtosis for w in diag) > 4.0  # the clicks are there: winsorizing, not their absence, keeps them out


@pytest.mark.parametrize("fs", [12000.0, 48000.0])
def test_repetitive_impacts_locked_to_no_race_line_are_a_ball_fault(fs: float) -> None:
    """A ball strikes a race only while its defect faces it: impacts about 2·BSF apart, with 30 % jitter."""
    shaft = 1797.0 / 60.0
    _, _, bsf, _ = (m * shaft for m in fault_multipliers(SKF_6205))
    d = Diagnoser(window_length(fs), fs, SKF_6205, shaft)
    rng = np.random.default_rng(7)
    n = round(2 * fs)
    gaps = fs / (2 * bsf) * (1.0 + 0.3 * rng.standard_normal(n))
    times = np.cumsum(np.abs(gaps))
    impulses = np.zeros(n)
    impulses[times[times < n - 1].astype(np.intp)] = 1.0
    x = scipy.signal.fftconvolve(impulses, impact(fs))[:n]
    x = x / float(np.std(x)) + 0.3 * rng.standard_normal(n)
    diag = [d.diagnose(x[s : s + d.n]) for s in range(0, n - d.n + 1, d.n // 2)]
    assert {w.verdict for w in diag} == {"ball"}, [(w.scores, w.impulsiveness) for w in diag]
    assert all(max(w.scores.values()) < d.settings.detect_threshold for w in diag)  # no line: impulsiveness did it


def test_a_shaft_too_fast_for_the_sample_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="sample rate too low"):
        Diagnoser(window_length(1000.0), 1000.0, SKF_6205, 300.0)


def test_a_one_percent_error_in_the_manifest_speed_still_finds_the_race() -> None:
    fs, shaft = 12000.0, 1797.0 / 60.0
    bpfo, bpfi, _, _ = (m * shaft for m in fault_multipliers(SKF_6205))
    d = Diagnoser(window_length(fs), fs, SKF_6205, shaft * 1.01)
    assert set(windows(d, bearing_signal(fs, 2.0, bpfo, seed=8))) == {"outer"}
    assert set(windows(d, bearing_signal(fs, 2.0, bpfi, shaft_hz=shaft, depth=0.8, seed=9))) == {"inner"}


@pytest.mark.parametrize("fs", [12000.0, 48000.0])
def test_broadband_rise_over_the_healthy_level_is_a_fault_only_where_a_reference_is_known(fs: float) -> None:
    """Rule 4: no line, no impacts, but twice the healthy level -> a fault typed like rule 3 (ball without a race
    line); the same signal at the healthy level, or with no reference for the channel, stays normal."""
    shaft = 1797.0 / 60.0
    rng = np.random.default_rng(11)
    n = window_length(fs)
    t = np.arange(n) / fs
    shape = rng.standard_normal(n) + sum(1.0 / k * np.sin(2 * np.pi * k * shaft * t + k) for k in range(1, 4))
    shape = shape / float(np.std(shape))
    reference = 0.074
    with_ref = Diagnoser(n, fs, SKF_6205, shaft, reference_rms=reference)
    without = Diagnoser(n, fs, SKF_6205, shaft)
    loud, quiet = 2.0 * reference * shape, 1.0 * reference * shape
    assert with_ref.diagnose(loud).verdict == "ball"
    assert with_ref.diagnose(loud).level_ratio == pytest.approx(2.0, rel=1e-6)
    assert with_ref.diagnose(quiet).verdict == "normal"
    assert without.diagnose(loud).verdict == "normal" and without.diagnose(loud).level_ratio == 0.0
    edge = with_ref.settings.level_factor * reference * shape
    assert with_ref.diagnose(edge * 0.99).verdict == "normal" and with_ref.diagnose(edge * 1.01).verdict == "ball"
