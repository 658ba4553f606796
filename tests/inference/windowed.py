"""A windowed test model built with the onnx helper API: x[N, W, F] -> mean over W -> standardised distance."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def windowed_distance(n_features: int, window: int, mean: list[float], std: list[float]) -> bytes:
    """score = mean_f(((mean_w x - mean) / std)^2), input ``input`` float32 [N, W, F], output ``score`` [N]."""
    inits = [
        numpy_helper.from_array(np.asarray(mean, dtype=np.float32), "mu"),
        numpy_helper.from_array((1.0 / np.asarray(std)).astype(np.float32), "inv_std"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "ax1"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["input", "ax1"], ["avg"], keepdims=0),
        helper.make_node("Sub", ["avg", "mu"], ["c"]),
        helper.make_node("Mul", ["c", "inv_std"], ["z"]),
        helper.make_node("Mul", ["z", "z"], ["z2"]),
        helper.make_node("ReduceMean", ["z2", "ax1"], ["score"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "windowed",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", window, n_features])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data
