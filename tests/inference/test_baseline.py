"""The in-code ONNX model scores known vectors exactly as its formula says (real ONNX Runtime)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edgewatch.inference.baseline import build_standardized_distance, fit_baseline, golden_input, reference_score

NAMES = ["Vibration.rms", "Vibration.peak", "Temperature.mean"]
MEAN = np.array([1.0, 3.0, 40.0])
STD = np.array([0.1, 0.5, 2.0])


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return ort.InferenceSession(build_standardized_distance(NAMES, MEAN, STD), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(
    ("x", "expected_score", "expected_contrib"),
    [
        ([1.0, 3.0, 40.0], 0.0, [0.0, 0.0, 0.0]),
        ([1.1, 3.5, 42.0], 1.0, [1 / 3, 1 / 3, 1 / 3]),
        ([1.3, 3.0, 40.0], 3.0, [3.0, 0.0, 0.0]),
        ([0.7, 2.0, 34.0], 22 / 3, [3.0, 4 / 3, 3.0]),
    ],
)
def test_standardized_distance_model_scores_known_vectors(
    session: ort.InferenceSession, x: list[float], expected_score: float, expected_contrib: list[float]
) -> None:
    score, contrib = session.run(None, {"x": np.asarray([x], dtype=np.float32)})
    assert score.shape == (1,)
    assert score[0] == pytest.approx(expected_score, rel=1e-4, abs=1e-5)
    assert contrib[0] == pytest.approx(expected_contrib, rel=1e-4, abs=1e-5)
    assert float(contrib.sum()) == pytest.approx(float(score[0]), rel=1e-5, abs=1e-6)


def test_standardized_distance_model_scores_a_batch_like_the_reference(session: ort.InferenceSession) -> None:
    rng = np.random.default_rng(7)
    xs = MEAN + rng.normal(size=(64, 3)) * STD * 3
    got = session.run(["score"], {"x": xs.astype(np.float32)})[0]
    want = [reference_score(x, MEAN, STD) for x in xs]
    assert got == pytest.approx(want, rel=1e-4)


def test_standardized_distance_model_declares_its_feature_names() -> None:
    model = onnx.load_from_string(build_standardized_distance(NAMES, MEAN, STD))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["edgewatch.features"].split(",") == NAMES
    assert model.opset_import[0].version == 17


def test_golden_input_scores_as_reference() -> None:
    g = golden_input(MEAN, STD)
    assert reference_score(g, MEAN, STD) == pytest.approx((1 + 4 + 9) / 3)


def test_fit_baseline_floors_constant_features_relative_to_their_mean() -> None:
    rows = np.array([[10.0, 1.0], [10.0, 2.0], [10.0, 3.0]])
    mean, std = fit_baseline(rows, rel_floor=0.02)
    assert mean == pytest.approx([10.0, 2.0])
    assert std == pytest.approx([0.2, 1.0])


@pytest.mark.parametrize(
    ("rows", "match"),
    [(np.array([[1.0, 2.0]]), "at least 2"), (np.array([[1.0, np.nan], [1.0, 2.0]]), "NaN")],
)
def test_fit_baseline_rejects_too_few_or_non_finite_rows(rows: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_baseline(rows)


def test_build_rejects_non_positive_std() -> None:
    with pytest.raises(ValueError, match="std"):
        build_standardized_distance(["a"], np.array([1.0]), np.array([0.0]))
