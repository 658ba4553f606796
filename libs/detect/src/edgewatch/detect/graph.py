"""Assembling a detector's ONNX model: input ``input`` float32 [N, W, F], output ``score`` float32 [N]."""

from __future__ import annotations

import onnx
from onnx import NodeProto, TensorProto, helper

__all__ = ["INPUT", "OPSET", "OUTPUT", "make_model"]

INPUT = "input"
OUTPUT = "score"
# Opset 17, as the inference service's in-code baseline: loadable by older TensorRT / OpenVINO providers too.
OPSET = 17


def make_model(
    nodes: list[NodeProto],
    inits: list[onnx.TensorProto],
    window: int,
    n_features: int,
    *,
    algorithm: str,
    extra_opsets: dict[str, int] | None = None,
) -> bytes:
    """A checked, serialised model of ``nodes`` whose last output is named ``score``."""
    graph = helper.make_graph(
        nodes,
        f"edgewatch_{algorithm.replace('-', '_')}",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", window, n_features])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch"])],
        initializer=inits,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    opsets += [helper.make_opsetid(d, v) for d, v in (extra_opsets or {}).items()]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="edgewatch-detect")
    model.ir_version = 8
    helper.set_model_props(model, {"edgewatch.algorithm": algorithm, "edgewatch.window": str(window)})
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data
