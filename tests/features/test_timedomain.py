"""Time-domain statistics against closed-form signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from edgewatch.features.timedomain import TIME_FEATURES, time_features


def _features(x: np.ndarray) -> dict[str, float]:
    out = np.empty(len(TIME_FEATURES))
    time_features(np.ascontiguousarray(x, dtype=np.float64), out)
    return dict(zip(TIME_FEATURES, out.tolist(), strict=True))


def test_time_features_of_sine_match_closed_form() -> None:
    amp, n = 2.5, 65536
    x = amp * np.sin(2 * np.pi * 8 * np.arange(n) / n)  # 8 whole periods, finely sampled (clearance needs it)
    f = _features(x)
    mean_sqrt = math.sqrt(amp) * 2 / math.pi * math.sqrt(math.pi) * special.gamma(0.75) / (2 * special.gamma(1.25))
    expected = {
        "mean": 0.0,
        "std": amp / math.sqrt(2),
        "rms": amp / math.sqrt(2),
        "peak": amp,
        "p2p": 2 * amp,
        "crest": math.sqrt(2),
        "kurtosis": 1.5,
        "skewness": 0.0,
        "shape": math.pi / (2 * math.sqrt(2)),
        "impulse": math.pi / 2,
        "clearance": amp / mean_sqrt**2,
    }
    for name, value in expected.items():
        assert f[name] == pytest.approx(value, rel=1e-3, abs=1e-9), name


def test_time_features_kurtosis_of_impulse_train_matches_bernoulli() -> None:
    period, n = 64, 4096
    x = np.zeros(n)
    x[::period] = 1.0
    p = 1 / period
    f = _features(x)
    assert f["kurtosis"] == pytest.approx((1 - 3 * p + 3 * p * p) / (p * (1 - p)), rel=1e-9)
    assert f["crest"] == pytest.approx(math.sqrt(period), rel=1e-9)
    assert f["kurtosis"] > 50


def test_time_features_match_scipy_stats_on_noise() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal(4096) * 0.3 + 0.1 + rng.exponential(0.2, 4096)
    f = _features(x)
    assert f["kurtosis"] == pytest.approx(stats.kurtosis(x, fisher=False), rel=1e-9)
    assert f["skewness"] == pytest.approx(stats.skew(x), rel=1e-9)
    assert f["std"] == pytest.approx(np.std(x), rel=1e-12)
    assert f["rms"] == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-12)


def test_time_features_of_constant_window_are_finite_zeros_for_ratios() -> None:
    f = _features(np.full(128, 3.0))
    assert f["mean"] == 3.0 and f["std"] == 0.0 and f["kurtosis"] == 0.0 and f["skewness"] == 0.0
    assert f["crest"] == pytest.approx(1.0)
    z = _features(np.zeros(16))
    assert all(math.isfinite(v) for v in z.values())
