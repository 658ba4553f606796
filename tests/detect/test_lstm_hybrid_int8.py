"""LSTM-AE (numpy BPTT, ONNX ``LSTM``), the hybrid's gate in the graph, INT8 for graphs with nothing to quantise.

The ONNX-equals-reference and causality checks of every registered detector (lstm-ae included) are in
``test_detectors.py``; these tests check what is particular to each."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

from edgewatch.detect.lstm import LstmAutoencoder, init_params, lstm_backprop, lstm_loss
from edgewatch.detect.model import TrainedModel, ort_scores, session, train_model
from edgewatch.detect.quantize import quantize_model
from edgewatch.detect.runtime import sliding_windows
from tests.detect.test_detectors import COLUMNS, TRAIN, _series


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    return _series(420)


def test_lstm_backprop_matches_finite_differences_on_a_tiny_case() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 2))
    params = [q + rng.normal(0.0, 0.3, q.shape) for q in init_params(2, 4, 3, rng)]
    grads, loss = lstm_backprop(params, x)
    assert loss == pytest.approx(lstm_loss(params, x))
    eps = 1e-6
    for q, g in zip(params, grads, strict=True):
        num = np.zeros_like(q)
        for idx in np.ndindex(q.shape):
            old = q[idx]
            q[idx] = old + eps
            up = lstm_loss(params, x)
            q[idx] = old - eps
            down = lstm_loss(params, x)
            q[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)
        assert np.abs(g).max() > 0  # every parameter receives a gradient


def test_onnx_lstm_gate_layout_equals_the_numpy_forward_pass_on_random_weights() -> None:
    # random, non-trivial weights in every gate: a swapped gate or a transposed W/R would not pass
    rng = np.random.default_rng(7)
    f, w, h = 3, 6, 5
    p = [q + rng.normal(0.0, 0.5, q.shape) for q in init_params(f, w, h, rng)]
    ae = LstmAutoencoder(*p, slow=np.array([False, True, False]), final_loss=0.0)
    nodes, inits = ae.onnx_nodes("input", "score")
    graph = helper.make_graph(
        nodes,
        "lstm",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["n", w, f])],
        [helper.make_tensor_value_info("score", onnx.TensorProto.FLOAT, ["n"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    z = rng.normal(size=(50, w, f))
    got = ort_scores(session(model.SerializeToString()), z.astype(np.float32))
    np.testing.assert_allclose(got, ae.score(z), rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def hybrid(series: np.ndarray) -> TrainedModel:
    return train_model(series[:TRAIN], COLUMNS, algorithm="hybrid")


def _with_outputs(data: bytes, *names: str) -> bytes:
    """The model with intermediate tensors exposed as more outputs (to see what ran)."""
    m = onnx.load_from_string(data)
    for name in names:
        m.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    out: bytes = m.SerializeToString()
    return out


def test_hybrid_runs_the_autoencoder_only_on_windows_through_the_gate(series: np.ndarray, hybrid: TrainedModel) -> None:
    det = hybrid.detector
    assert det is not None
    gate = det.info["gate"]
    windows = sliding_windows(series, det.window)
    sess = session(_with_outputs(det.to_onnx(), "hy_a", "ae_a"))
    score, stage1, ae_in = sess.run(["score", "hy_a", "ae_a"], {"input": windows})
    is_open = stage1 > gate
    assert 0 < is_open.sum() < is_open.size  # the series has both
    assert ae_in.shape[0] == int(is_open.sum())  # the AE's input holds the gated windows only
    np.testing.assert_allclose(score, det.score(windows), rtol=2e-3, atol=2e-3)
    score_c, stage1_c, ae_c = sess.run(["score", "hy_a", "ae_a"], {"input": windows[~is_open]})
    assert ae_c.shape[0] == 0  # gate closed for the whole batch: no AE row computed
    np.testing.assert_array_equal(score_c, np.minimum(stage1_c, gate))  # the first stage's score
    np.testing.assert_allclose(score_c, det.score(windows[~is_open]), rtol=1e-4, atol=1e-6)


def test_hybrid_int8_quantises_the_gated_autoencoder(series: np.ndarray, hybrid: TrainedModel) -> None:
    q = quantize_model(hybrid, sliding_windows(series[:TRAIN], hybrid.window))
    assert q.meta["quantized"] is True
    ops = {n.op_type for n in onnx.load_from_string(q.onnx).graph.node}
    assert {"QuantizeLinear", "Compress", "ScatterND"} <= ops
    a = ort_scores(session(hybrid.onnx), sliding_windows(series, hybrid.window))
    b = ort_scores(session(q.onnx), sliding_windows(series, hybrid.window))
    assert np.median(np.abs(a - b)) < 0.1 * hybrid.threshold


@pytest.mark.parametrize("algorithm", ["iforest", "zscore"])
def test_int8_keeps_the_fp32_graph_when_there_is_nothing_to_quantise(algorithm: str, series: np.ndarray) -> None:
    fp32 = train_model(series[:TRAIN], COLUMNS, algorithm=algorithm)
    q = quantize_model(fp32, sliding_windows(series[:TRAIN], fp32.window))
    assert q.onnx == fp32.onnx
    assert q.threshold == fp32.threshold
    assert q.meta["quantized"] is False
    assert q.meta["calibration"]["int8"].startswith("kept FP32")
    assert q.meta["calibration"]["int8Size"] == q.meta["calibration"]["fp32Size"] == len(fp32.onnx)
