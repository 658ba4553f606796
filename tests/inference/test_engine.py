"""InferenceEngine batches: one ORT call per model, per-vector outcomes, order kept across a baseline fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.feature import FeatureVector
from edgewatch.common.contracts.score import Score
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.inference.config import InferenceSection
from edgewatch.inference.engine import InferenceEngine
from edgewatch.inference.errors import FeatureMismatchError
from edgewatch.inference.models import ModelRegistry

NAMES = ["a", "b"]


def _fv(device: str, values: list[float], names: list[str] = NAMES) -> FeatureVector:
    return FeatureVector(
        device=device, resources=["r"], window_start=1, window_end=2, sample_count=1, names=names, values=values
    )


@pytest.fixture
def engine(tmp_path: Path) -> InferenceEngine:
    return InferenceEngine(ModelRegistry(tmp_path), InferenceSection(baseline_count=3), ServiceMetrics("t"))


def test_batch_fits_baseline_mid_batch_and_scores_the_rest_in_order(engine: InferenceEngine) -> None:
    base = [[1.0, 10.0], [1.2, 10.4], [0.8, 9.6]]
    batch = [_fv("p", v) for v in base] + [_fv("p", [1.0, 10.0]), _fv("p", [1.6, 10.0]), _fv("q", [1.0, 10.0])]
    out = engine.score_batch(batch)
    assert out[:3] == [None, None, None] and out[5] is None
    first, second = (Score.model_validate(o) for o in out[3:5])
    assert (first.sequence, second.sequence) == (1, 2)
    # mean (1, 10), std (0.2, 0.4): the second vector is 3 std away on feature a -> (9 + 0) / 2
    assert first.score == pytest.approx(0.0, abs=1e-6) and second.score == pytest.approx(4.5, rel=1e-4)
    assert engine.baseline_progress() == {"q": 1}


def test_batch_reports_each_rejected_vector_and_scores_the_others(engine: InferenceEngine) -> None:
    for v in ([1.0, 10.0], [1.2, 10.4], [0.8, 9.6]):
        engine.score(_fv("p", v))
    out = engine.score_batch([_fv("p", [1.0, np.nan]), _fv("p", [1.0, 10.0]), _fv("p", [1.0, 2.0], names=["x", "y"])])
    assert isinstance(out[0], ContractInvalidError) and "NaN" in out[0].message
    assert isinstance(out[1], dict) and out[1]["sequence"] == 1
    # an auto-fitted model follows its device's names: new names start a new baseline instead of a rejection
    assert out[2] is None and engine.baseline_progress() == {"p": 1}


def test_fixed_model_rejects_other_names(tmp_path: Path) -> None:
    engine = InferenceEngine(ModelRegistry(tmp_path), InferenceSection(baseline_count=2), ServiceMetrics("t"))
    engine.score_batch([_fv("p", [1.0, 10.0]), _fv("p", [1.2, 10.4])])
    engine.cfg = InferenceSection(auto_fit=False)
    (out,) = engine.score_batch([_fv("p", [1.0, 2.0], names=["x", "y"])])
    assert isinstance(out, FeatureMismatchError) and out.field == "names"


def test_batch_scores_equal_single_scores(engine: InferenceEngine) -> None:
    for v in ([1.0, 10.0], [1.2, 10.4], [0.8, 9.6]):
        engine.score(_fv("p", v))
    rng = np.random.default_rng(5)
    vectors = [_fv("p", list(rng.normal([1, 10], [0.5, 1.0]))) for _ in range(16)]
    batched = [o["score"] for o in engine.score_batch(vectors)]  # type: ignore[index]
    single = [engine.score(v).score for v in vectors]  # type: ignore[union-attr]
    assert batched == pytest.approx(single, rel=1e-6)


def test_scores_carry_the_top_k_contributions(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d"]
    cfg = InferenceSection(baseline_count=2, contributions_top=2, std_rel_floor=0.0)
    engine = InferenceEngine(ModelRegistry(tmp_path), cfg, ServiceMetrics("t"))
    engine.score_batch([_fv("p", [0.0, 0.0, 0.0, 0.0], names), _fv("p", [2.0, 2.0, 2.0, 2.0], names)])
    # mean 1, std sqrt(2): z^2 / 4 = (x - 1)^2 / 8
    score = engine.score(_fv("p", [1.0, 5.0, 0.0, 3.0], names))
    assert score is not None and score.contributions == pytest.approx({"b": 2.0, "d": 0.5})
    assert score.score == pytest.approx(2.0 + 0.125 + 0.5)


def test_non_finite_vector_during_baseline_is_rejected_and_not_buffered(engine: InferenceEngine) -> None:
    out = engine.score_batch([_fv("p", [1.0, 10.0]), _fv("p", [np.inf, 10.0]), _fv("p", [1.2, 10.4])])
    assert out[0] is None and isinstance(out[1], ContractInvalidError) and out[2] is None
    assert engine.baseline_progress() == {"p": 2}
