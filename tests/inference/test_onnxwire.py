"""onnxwire writes the standardised-distance model byte for byte as the ``onnx`` helper API serialises it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgewatch.inference.baseline import (
    INPUT_NAME,
    IR_VERSION,
    OPSET,
    OUTPUT_CONTRIBUTIONS,
    OUTPUT_SCORE,
    build_standardized_distance,
)


def _with_onnx(names: Sequence[str], mean: np.ndarray, std: np.ndarray, doc: str) -> bytes:
    """The same graph through onnx's helper API (how the service built it before onnxwire)."""
    n = len(names)
    inits = [
        numpy_helper.from_array(mean.astype(np.float32), "mean"),
        numpy_helper.from_array((1.0 / std).astype(np.float32), "inv_std"),
        numpy_helper.from_array(np.array(1.0 / n, dtype=np.float32), "inv_n"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    ]
    nodes = [
        helper.make_node("Sub", [INPUT_NAME, "mean"], ["centered"]),
        helper.make_node("Mul", ["centered", "inv_std"], ["z"]),
        helper.make_node("Mul", ["z", "z"], ["z2"]),
        helper.make_node("Mul", ["z2", "inv_n"], [OUTPUT_CONTRIBUTIONS]),
        helper.make_node("ReduceSum", [OUTPUT_CONTRIBUTIONS, "axis1"], [OUTPUT_SCORE], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "standardized_distance",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", n])],
        [
            helper.make_tensor_value_info(OUTPUT_SCORE, TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info(OUTPUT_CONTRIBUTIONS, TensorProto.FLOAT, ["batch", n]),
        ],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="edgewatch-inference",
        doc_string=doc or "standardised distance: mean of squared z-scores",
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {"edgewatch.kind": "standardized-distance", "edgewatch.features": ",".join(names)})
    return model.SerializeToString()


@pytest.mark.parametrize(
    ("names", "mean", "std", "doc"),
    [
        (["Vibration.rms", "Temperature.mean", "x"], np.array([1.0, 2.5, -3.0]), np.array([0.1, 0.5, 2.0]), ""),
        ([f"f{i}.é" * 30 for i in range(40)], np.arange(40.0) - 7, np.full(40, 3.25), "fitted on 2 h " * 30),
    ],
)
def test_the_model_bytes_equal_the_onnx_helper_serialisation_and_pass_its_checker(
    names: list[str], mean: np.ndarray, std: np.ndarray, doc: str
) -> None:
    data = build_standardized_distance(names, mean, std, doc=doc)
    assert data == _with_onnx(names, mean, std, doc)
    onnx.checker.check_model(onnx.load_from_string(data))
