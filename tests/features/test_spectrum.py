"""Band energies, centroid, dominant frequency and the envelope spectrum against known tones."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from edgewatch.features.bearing import FAULTS, BearingGeometry, fault_multipliers
from edgewatch.features.extractor import default_bands
from edgewatch.features.spectrum import EnvelopePlan, SpectrumPlan, envelope_names, spectrum_names

FS = 25600.0
N = 4096  # df = 6.25 Hz


def _spectrum(x: np.ndarray, bands: list[tuple[float, float]]) -> dict[str, float]:
    plan = SpectrumPlan.build(N, FS, bands)
    out = np.empty(plan.width)
    plan.compute(scipy.fft.rfft(x), out)
    return dict(zip(spectrum_names(bands), out.tolist(), strict=True))


def test_band_energies_of_two_tones_are_half_amplitude_squared() -> None:
    t = np.arange(N) / FS
    a1, f1, a2, f2 = 2.0, 500.0, 0.5, 3000.0  # both on bin centres
    x = a1 * np.sin(2 * np.pi * f1 * t) + a2 * np.cos(2 * np.pi * f2 * t)
    bands = [(0, 1000), (1000, 2000), (2000, 4000), (4000, 12800)]
    s = _spectrum(x, bands)
    assert s["band_0_1000"] == pytest.approx(a1**2 / 2, rel=1e-9)
    assert s["band_2000_4000"] == pytest.approx(a2**2 / 2, rel=1e-9)
    assert s["band_1000_2000"] == pytest.approx(0.0, abs=1e-18)
    assert s["band_4000_12800"] == pytest.approx(0.0, abs=1e-18)
    assert s["dominant_hz"] == pytest.approx(f1)
    centroid = (f1 * a1**2 + f2 * a2**2) / (a1**2 + a2**2)
    assert s["spectral_centroid"] == pytest.approx(centroid, rel=1e-9)


def test_default_bands_cover_the_whole_spectrum_so_energy_equals_mean_square() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(N)
    bands = default_bands(FS)
    s = _spectrum(x, bands)
    total = sum(s[name] for name in spectrum_names(bands)[: len(bands)])
    assert total == pytest.approx(float(np.mean(x * x)), rel=1e-9)


def test_bearing_multipliers_match_cwru_drive_end_table() -> None:
    bpfo, bpfi, bsf, ftf = fault_multipliers(BearingGeometry(9, 0.3126, 1.537))
    assert bpfi == pytest.approx(5.4152, abs=2e-4)
    assert bpfo == pytest.approx(3.5848, abs=2e-4)
    assert ftf == pytest.approx(0.39828, abs=2e-4)
    assert 2 * bsf == pytest.approx(4.7135, abs=2e-4)


def _bearing_signal(fault_hz: float, fs: float, n: int, seed: int = 3) -> np.ndarray:
    """A 3 kHz resonance rung by impacts at ``fault_hz``, in noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    impacts = np.zeros(n)
    impacts[(np.arange(0, t[-1], 1 / fault_hz) * fs).astype(int)] = 1.0
    ring = np.exp(-t[:200] * 800) * np.sin(2 * np.pi * 3000 * t[:200])
    return np.convolve(impacts, ring)[:n] + 0.05 * rng.standard_normal(n)


@pytest.mark.parametrize("fault", FAULTS[:3])
def test_envelope_ranks_the_simulated_fault_highest(fault: str) -> None:
    shaft = 29.95
    mult = fault_multipliers(BearingGeometry(9, 0.3126, 1.537))
    fault_hz = dict(zip(FAULTS, mult, strict=True))[fault] * shaft
    fs, n = 12000.0, 16384
    x = _bearing_signal(fault_hz, fs, n)
    plan = EnvelopePlan.build(n, fs, (2000.0, 5000.0), mult, 3, 0.02)
    out = np.empty(plan.width)
    plan.compute(scipy.fft.rfft(x), shaft, None, out)
    f = dict(zip(envelope_names(), out.tolist(), strict=True))
    ratios = {k: f[f"env_{k}_ratio"] for k in FAULTS}
    assert max(ratios, key=ratios.__getitem__) == fault
    harmonic = f["env_peak_hz"] / fault_hz  # an impact train's envelope has equal harmonics: any may win
    assert round(harmonic) >= 1
    assert f["env_peak_hz"] == pytest.approx(round(harmonic) * fault_hz, abs=2 * fs / n)


def test_envelope_without_shaft_speed_reports_zero_fault_features() -> None:
    mult = fault_multipliers(BearingGeometry(9, 0.3126, 1.537))
    plan = EnvelopePlan.build(N, FS, (2000.0, 5000.0), mult, 3, 0.02)
    out = np.full(plan.width, np.nan)
    plan.compute(scipy.fft.rfft(_bearing_signal(100.0, FS, N)), 0.0, None, out)
    assert np.all(out[:8] == 0.0) and np.isfinite(out).all()


@pytest.mark.parametrize(
    "bands",
    [
        [(0, 1000), (500, 1500), (3000, 3001), (12000, 20000)],  # overlap, a one-bin band, one past Nyquist
        [(100, 200)],
        [(0, 12800.0001)],  # up to and including the Nyquist bin
        [(13000, 14000), (2000, 2000.5)],  # wholly above Nyquist; empty (no bin inside)
        [(4000, 8000), (0, 1000)],  # unsorted
    ],
)
def test_band_energies_match_a_direct_sum_for_any_band_layout(bands: list[tuple[float, float]]) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal(N)
    s = _spectrum(x, bands)
    spec = np.fft.rfft(x)
    p = np.abs(spec) ** 2 * 2 / N**2
    p[0] /= 2
    p[-1] /= 2
    f = np.arange(p.shape[0]) * FS / N
    for lo, hi in bands:
        assert s[f"band_{lo:g}_{hi:g}"] == pytest.approx(float(p[(f >= lo) & (f < hi)].sum()), rel=1e-9, abs=1e-15)
