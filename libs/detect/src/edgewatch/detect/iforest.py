"""Isolation Forest (scikit-learn) exported as one ONNX ``TreeEnsembleRegressor`` from the fitted trees' public arrays.

Why not skl2onnx: its IsolationForest converter walks every node in Python and took 5-48 s per model on the
shared 2-core machine (100 trees), times 16 files per SKAB run; this export is a few array operations. The score
is scikit-learn's ``-decision_function``: 2^(-E[h(x)] / c(psi)) + offset_, where a leaf contributes its depth
plus c(n_leaf) - 1 (Liu et al. 2008) and c(n) is the average path length of an unsuccessful BST search.
The ONNX output is checked against ``decision_function`` in the tests.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from onnx import NodeProto, TensorProto, helper, numpy_helper

__all__ = ["average_path_length", "iforest_nodes"]

F64 = npt.NDArray[np.float64]


def average_path_length(n: npt.ArrayLike) -> F64:
    """c(n): 0 for n <= 1, 1 for n == 2, else 2 (ln(n-1) + Euler's gamma) - 2 (n-1)/n."""
    m = np.asarray(n, dtype=np.float64)
    safe = np.maximum(m, 3.0)
    out: F64 = np.where(
        m <= 1, 0.0, np.where(m == 2, 1.0, 2.0 * (np.log(safe - 1.0) + np.euler_gamma) - 2.0 * (safe - 1.0) / safe)
    )
    return out


def iforest_nodes(clf: Any, x: str, out: str, prefix: str = "if") -> tuple[list[NodeProto], list[TensorProto]]:
    """Nodes from features ``x`` [N, F] (float) to ``out`` [N] = ``-clf.decision_function(x)``."""
    n_trees = len(clf.estimators_)
    scale = -math.log(2.0) / (n_trees * float(average_path_length(clf.max_samples_)))
    attrs: dict[str, list[Any]] = {k: [] for k in ("tid", "nid", "fid", "val", "true", "false", "mode")}
    targets: dict[str, list[Any]] = {"tid": [], "nid": [], "w": []}
    for t, (est, feats) in enumerate(zip(clf.estimators_, clf.estimators_features_, strict=True)):
        tree = est.tree_
        depth = np.asarray(tree.compute_node_depths(), dtype=np.float64)
        leaf_value = (depth + average_path_length(tree.n_node_samples) - 1.0) * scale
        left, right = tree.children_left, tree.children_right
        is_leaf = left == -1
        n = tree.node_count
        attrs["tid"] += [t] * n
        attrs["nid"] += list(range(n))
        attrs["fid"] += [int(feats[f]) if not leaf else 0 for f, leaf in zip(tree.feature, is_leaf, strict=True)]
        attrs["val"] += [float(v) if not leaf else 0.0 for v, leaf in zip(tree.threshold, is_leaf, strict=True)]
        attrs["true"] += [int(v) if v >= 0 else 0 for v in left]
        attrs["false"] += [int(v) if v >= 0 else 0 for v in right]
        attrs["mode"] += ["LEAF" if leaf else "BRANCH_LEQ" for leaf in is_leaf]
        leaves = np.flatnonzero(is_leaf)
        targets["tid"] += [t] * leaves.size
        targets["nid"] += leaves.tolist()
        targets["w"] += leaf_value[leaves].tolist()
    p = prefix
    ensemble = helper.make_node(
        "TreeEnsembleRegressor",
        [x],
        [f"{p}_sum"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function="SUM",
        nodes_treeids=attrs["tid"],
        nodes_nodeids=attrs["nid"],
        nodes_featureids=attrs["fid"],
        nodes_values=attrs["val"],
        nodes_truenodeids=attrs["true"],
        nodes_falsenodeids=attrs["false"],
        nodes_modes=attrs["mode"],
        target_treeids=targets["tid"],
        target_nodeids=targets["nid"],
        target_ids=[0] * len(targets["tid"]),
        target_weights=targets["w"],
    )
    inits = [
        numpy_helper.from_array(np.array([1], dtype=np.int64), f"{p}_ax"),
        numpy_helper.from_array(np.array(float(clf.offset_), dtype=np.float32), f"{p}_offset"),
    ]
    nodes = [
        ensemble,
        helper.make_node("Squeeze", [f"{p}_sum", f"{p}_ax"], [f"{p}_s"]),
        helper.make_node("Exp", [f"{p}_s"], [f"{p}_e"]),
        helper.make_node("Add", [f"{p}_e", f"{p}_offset"], [out]),
    ]
    return nodes, inits
