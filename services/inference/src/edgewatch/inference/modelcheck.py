"""Graph checks of an uploaded ONNX model, run before ONNX Runtime is asked to load it.

ONNX Runtime will try to load whatever it is given: tensors stored as external data make it open files named by
the model (relative to the working directory), custom-domain operators load code paths nobody reviewed, and a
graph of millions of nodes takes minutes to optimise. A model is refused (400, naming the check) when any
tensor, in the main graph, a subgraph or a function, uses external data, when its nodes (subgraphs and
functions included) exceed ``Inference.MaxModelNodes``, or when an operator set is not a standard one.
"""

from __future__ import annotations

from collections.abc import Iterator

import onnx

from edgewatch.common.contracts.limits import StructureLimitError
from edgewatch.inference.errors import ModelValidationError

__all__ = ["STANDARD_DOMAINS", "check_graph"]

STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
"""Operator-set domains an uploaded model may use (the ONNX standard ones)."""


def _graphs(graph: onnx.GraphProto, depth: int = 0) -> Iterator[tuple[onnx.GraphProto, int]]:
    yield graph, depth
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _graphs(attr.g, depth + 1)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _graphs(g, depth + 1)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t
            elif attr.type == onnx.AttributeProto.TENSORS:
                yield from attr.tensors


def check_graph(name: str, version: str, data: bytes, max_nodes: int, max_depth: int = 16) -> None:
    """Refuse a model that is not a self-contained standard ONNX graph of at most ``max_nodes`` nodes.

    Raises:
        ModelValidationError: not an ONNX model, external data, or a non-standard operator set (400).
        StructureLimitError: more nodes than ``max_nodes`` or subgraphs nested deeper than ``max_depth`` (400).
    """
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:  # protobuf's DecodeError
        raise ModelValidationError(name, version, f"not an ONNX model: {e}", field="model") from None
    if not model.HasField("graph"):
        raise ModelValidationError(name, version, "not an ONNX model: no graph", field="model")
    domains = {o.domain for o in model.opset_import}
    graphs = [model.graph, *(g for f in model.functions for g in [onnx.GraphProto(node=f.node)])]
    nodes = 0
    for root in graphs:
        for graph, depth in _graphs(root):
            if depth > max_depth:
                raise StructureLimitError(
                    f"model {name}/{version}: subgraphs nest deeper than {max_depth}",
                    limit="ModelSubgraphDepth",
                    field="model",
                )
            nodes += len(graph.node)
            if nodes > max_nodes:
                raise StructureLimitError(
                    f"model {name}/{version}: more than Inference.MaxModelNodes ({max_nodes}) nodes",
                    limit="MaxModelNodes",
                    field="model",
                )
            domains.update(n.domain for n in graph.node)
            for t in _tensors(graph):
                if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
                    raise ModelValidationError(
                        name,
                        version,
                        f"tensor {t.name!r} uses external data; a model must be self-contained",
                        field="model",
                    )
    unknown = sorted(domains - STANDARD_DOMAINS)
    if unknown:
        raise ModelValidationError(name, version, f"operator sets {unknown} are not standard ONNX", field="model")
