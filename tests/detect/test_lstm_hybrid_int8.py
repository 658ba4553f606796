"""LSTM-AE: numpy BPTT, ONNX ``LSTM``.

The ONNX-equals-reference and causality checks of every registered detector (lstm-ae included) are in
``test_detectors.py``."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

from edgewatch.detect.lstm import LstmAutoencoder, init_params, lstm_backprop, lstm_loss
from edgewatch.detect.model import ort_scores, session


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
