"""Every detector trains, exports to ONNX, scores like its numpy reference, is causal, and survives INT8."""

from __future__ import annotations

import numpy as np
import pytest

from edgewatch.detect.detectors import ALGORITHMS
from edgewatch.detect.evaluate import score_recording
from edgewatch.detect.model import TrainedModel, ort_scores, session, train_model
from edgewatch.detect.quantize import quantize_model
from edgewatch.detect.runtime import sliding_windows

COLUMNS = ["flow", "current", "pressure", "temperature"]
TRAIN = 240


def _series(n: int, seed: int = 0) -> np.ndarray:
    """Three noisy process channels and one slow, drifting temperature; a flow drop from row 300 to 360."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.column_stack(
        [
            32 + rng.normal(0, 0.4, n),
            1.0 + 0.05 * np.sin(t / 15) + rng.normal(0, 0.02, n),
            0.1 + rng.normal(0, 0.05, n),
            70 + 0.01 * t + np.cumsum(rng.normal(0, 0.02, n)),
        ]
    )
    x[300:360, 0] -= 2.0
    return x


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    return _series(420)


@pytest.fixture(scope="module")
def trained(series: np.ndarray) -> dict[str, TrainedModel]:
    return {a: train_model(series[:TRAIN], COLUMNS, algorithm=a) for a in ALGORITHMS}


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_detector_onnx_score_equals_the_numpy_reference(
    algorithm: str, series: np.ndarray, trained: dict[str, TrainedModel]
) -> None:
    det = trained[algorithm].detector
    assert det is not None
    windows = sliding_windows(series, det.window)
    ref = det.score(windows)
    got = ort_scores(session(det.to_onnx()), windows)
    np.testing.assert_allclose(got, ref, rtol=2e-3, atol=2e-3 * max(1.0, float(np.median(np.abs(ref)))))


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_detector_is_causal_changing_future_rows_never_changes_past_scores(
    algorithm: str, series: np.ndarray, trained: dict[str, TrainedModel]
) -> None:
    model = trained[algorithm]
    before, _ = score_recording(model, series, TRAIN)
    future = series.copy()
    future[330:] += np.random.default_rng(1).normal(0, 50, future[330:].shape)
    after, _ = score_recording(model, future, TRAIN)
    k = 330 - TRAIN
    np.testing.assert_array_equal(before[:k], after[:k])
    assert not np.allclose(before[k:], after[k:])


@pytest.mark.parametrize("algorithm", ["filtered-z", "pca", "dense-ae", "lstm-ae"])
def test_detector_alarms_on_the_flow_drop_and_stays_quiet_on_normal_rows(
    algorithm: str, series: np.ndarray, trained: dict[str, TrainedModel]
) -> None:
    _, alarm = score_recording(trained[algorithm], series, TRAIN)
    rows = np.arange(TRAIN, series.shape[0])
    inside = alarm[(rows >= 310) & (rows < 360)]
    outside = alarm[(rows < 300) | (rows >= 380)]
    assert inside.mean() > 0.8
    assert outside.mean() < 0.1


def test_meta_json_carries_the_contract_fields(trained: dict[str, TrainedModel]) -> None:
    meta = trained["filtered-z"].meta
    assert meta["inputNames"] == COLUMNS
    assert meta["window"] == 10 and meta["algorithm"] == "filtered-z" and meta["quantized"] is False
    assert meta["thresholdMethod"] == "quantile"
    assert {"n", "quantile", "factor", "scoreMean", "scoreStd", "scoreMax"} <= set(meta["calibration"])
    assert meta["persistence"] == {"raise": 3, "clear": 3}
    assert len(meta["golden"]["input"]) == 10 * len(COLUMNS)
    assert meta["threshold"] > meta["calibration"]["scoreMean"]


def test_golden_vector_scores_the_expected_score(trained: dict[str, TrainedModel]) -> None:
    for model in trained.values():
        g = model.meta["golden"]
        x = np.array(g["input"], dtype=np.float32).reshape(1, model.window, len(COLUMNS))
        assert abs(ort_scores(session(model.onnx), x)[0] - g["expectedScore"]) <= g["tolerance"] * max(
            1.0, abs(g["expectedScore"])
        )


@pytest.mark.parametrize("algorithm", ["filtered-z", "pca", "dense-ae"])
def test_int8_keeps_scores_close_and_recalibrates_the_threshold(
    algorithm: str, series: np.ndarray, trained: dict[str, TrainedModel]
) -> None:
    fp32 = trained[algorithm]
    q = quantize_model(fp32, sliding_windows(series[:TRAIN], fp32.window))
    assert q.meta["quantized"] is True and q.meta["version"].endswith("-int8")
    assert q.meta["threshold"] != fp32.meta["threshold"]
    a, alarm_a = score_recording(fp32, series, TRAIN)
    b, alarm_b = score_recording(q, series, TRAIN)
    # scores agree to a few percent of the threshold, and the alarms to within a few rows
    assert np.median(np.abs(a - b)) < 0.1 * fp32.threshold
    assert abs(q.threshold - fp32.threshold) < 0.1 * fp32.threshold
    assert np.mean(alarm_a != alarm_b) < 0.05


def test_cv_calibration_scores_unseen_folds_and_int8_scales_its_threshold(series: np.ndarray) -> None:
    fp32 = train_model(series[:TRAIN], COLUMNS, algorithm="filtered-z", calibration="cv")
    cal = fp32.meta["calibration"]
    assert cal["scores"] == "cv" and cal["factor"] == 1.0
    assert cal["n"] == TRAIN - fp32.window + 1  # every training window scored once, by a model that never saw it
    _, alarm = score_recording(fp32, series, TRAIN)
    rows = np.arange(TRAIN, series.shape[0])
    assert alarm[(rows >= 310) & (rows < 360)].mean() > 0.8
    q = quantize_model(fp32, sliding_windows(series[:TRAIN], fp32.window))
    ratio = q.meta["calibration"]["int8Ratio"]
    assert q.meta["threshold"] == pytest.approx(fp32.threshold * ratio)
    assert 0.8 < ratio < 1.25
