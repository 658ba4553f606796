"""SKAB's point metrics and NAB scores, and threshold calibration on normal scores."""

from __future__ import annotations

import numpy as np
import pytest

from edgewatch.detect.calibrate import calibrate
from edgewatch.detect.metrics import nab_scores, point_counts

LABEL = np.array([0] * 10 + [1] * 10 + [0] * 10, dtype=np.int8)
CPS = np.zeros(30, dtype=np.int8)
CPS[[10, 20]] = 1


def test_point_metrics_follow_skab_formulas() -> None:
    pred = np.array([0] * 8 + [1] * 2 + [1] * 5 + [0] * 5 + [0] * 10, dtype=bool)
    c = point_counts([(pred, LABEL)])
    assert (c.tp, c.fp, c.fn, c.tn) == (5, 2, 5, 18)
    assert c.f1 == pytest.approx(5 / (5 + 3.5))
    assert c.far == pytest.approx(100 * 2 / 20)
    assert c.mar == pytest.approx(50.0)


def test_flagging_every_row_scores_far_100_and_the_label_share_as_f1() -> None:
    c = point_counts([(np.ones(30, dtype=bool), LABEL)])
    assert c.far == 100.0 and c.mar == 0.0
    assert c.f1 == pytest.approx(10 / (10 + 10))


def test_nab_perfect_detector_scores_100_and_null_detector_0() -> None:
    perfect = nab_scores([(LABEL.astype(bool), CPS)], window=5)
    null = nab_scores([(np.zeros(30, dtype=bool), CPS)], window=5)
    assert all(v == pytest.approx(100.0) for v in perfect.values())
    assert all(v == pytest.approx(0.0) for v in null.values())


def test_nab_late_detection_earns_less_and_false_changepoints_cost() -> None:
    late = np.zeros(30, dtype=bool)
    late[14:22] = True  # rises 4 samples into the first window, falls 2 into the second
    s_late = nab_scores([(late, CPS)], window=5)["standard"]
    noisy = LABEL.astype(bool).copy()
    noisy[2] = True  # one extra spike: two predicted changepoints outside every window
    s_noisy = nab_scores([(noisy, CPS)], window=5)
    assert 0 < s_late < 100
    assert s_noisy["lowFP"] < s_noisy["standard"] < 100


def test_quantile_threshold_is_the_quantile_times_the_factor_with_a_summary() -> None:
    s = np.arange(1001, dtype=float) / 1000
    thr, summary = calibrate(s, "quantile", quantile=0.99, factor=1.5)
    assert thr == pytest.approx(0.99 * 1.5)
    assert summary["n"] == 1001 and summary["scoreMax"] == 1.0 and summary["factor"] == 1.5


def test_pot_threshold_matches_the_tail_risk_of_exponential_scores() -> None:
    s = np.random.default_rng(0).exponential(1.0, 20000)
    thr, summary = calibrate(s, "pot", risk=1e-3)
    # exponential tail: P(S > t) = exp(-t), so the 1e-3 risk score is ln(1000) = 6.9
    assert thr == pytest.approx(np.log(1000), rel=0.1)
    assert summary["peaks"] == 400 and abs(summary["gamma"]) < 0.2


def test_calibration_refuses_no_finite_scores_and_unknown_methods() -> None:
    with pytest.raises(ValueError, match="no finite"):
        calibrate([np.nan])
    with pytest.raises(ValueError, match="unknown threshold method"):
        calibrate([1.0, 2.0], "magic")
