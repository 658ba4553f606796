"""The in-code anomaly model: a standardised-distance ONNX graph, written by :mod:`onnxwire` (not the ``onnx``
package, about 20 MB of RSS), and its fit.

score(x) = mean_i(((x_i - mean_i) / std_i)^2); the graph also outputs each feature's share of that mean
(``contributions``, summing to the score). For data like the baseline the score is about 1; a feature that
sits k standard deviations away adds k^2/N.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from edgewatch.inference import onnxwire as wire

__all__ = [
    "INPUT_NAME",
    "OPSET",
    "OUTPUT_CONTRIBUTIONS",
    "OUTPUT_SCORE",
    "build_standardized_distance",
    "fit_baseline",
    "golden_input",
    "reference_score",
]

INPUT_NAME = "x"
OUTPUT_SCORE = "score"
OUTPUT_CONTRIBUTIONS = "contributions"
# Opset 17 keeps the graph loadable by the TensorRT and OpenVINO execution providers of older runtimes too.
OPSET = 17
IR_VERSION = 8

F64 = npt.NDArray[np.float64]


def fit_baseline(samples: F64, *, rel_floor: float = 0.02, abs_floor: float = 1e-6) -> tuple[F64, F64]:
    """Mean and floored standard deviation per column of ``samples`` (rows are feature vectors).

    The floor (``max(std, rel_floor*|mean|, abs_floor)``) keeps a feature that was constant during the
    baseline from turning the smallest later change into an infinite score.

    Raises:
        ValueError: fewer than two rows, or non-finite values.
    """
    if samples.ndim != 2 or samples.shape[0] < 2:
        raise ValueError(f"baseline needs at least 2 vectors, got shape {samples.shape}")
    if not np.isfinite(samples).all():
        raise ValueError("baseline vectors contain NaN or infinity")
    mean = samples.mean(axis=0)
    std = samples.std(axis=0, ddof=1)
    floor = np.maximum(np.abs(mean) * rel_floor, abs_floor)
    return mean, np.maximum(std, floor)


def build_standardized_distance(names: Sequence[str], mean: F64, std: F64, *, doc: str = "") -> bytes:
    """Serialised ONNX model: input ``x`` float32 [batch, N] -> ``score`` [batch], ``contributions`` [batch, N].

    Raises:
        ValueError: shapes disagree, or a std is not positive.
    """
    n = len(names)
    if n == 0 or mean.shape != (n,) or std.shape != (n,):
        raise ValueError(f"names ({n}), mean {mean.shape} and std {std.shape} must have the same length > 0")
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise ValueError("mean must be finite and std finite and > 0")
    n_dim: list[int | str] = ["batch", n]
    inits = [
        wire.tensor("mean", wire.FLOAT, [n], mean.astype("<f4").tobytes()),
        wire.tensor("inv_std", wire.FLOAT, [n], (1.0 / std).astype("<f4").tobytes()),
        wire.tensor("inv_n", wire.FLOAT, [], np.array(1.0 / n, dtype="<f4").tobytes()),
        wire.tensor("axis1", wire.INT64, [1], np.array([1], dtype="<i8").tobytes()),
    ]
    nodes = [
        wire.node("Sub", [INPUT_NAME, "mean"], ["centered"]),
        wire.node("Mul", ["centered", "inv_std"], ["z"]),
        wire.node("Mul", ["z", "z"], ["z2"]),
        wire.node("Mul", ["z2", "inv_n"], [OUTPUT_CONTRIBUTIONS]),
        wire.node("ReduceSum", [OUTPUT_CONTRIBUTIONS, "axis1"], [OUTPUT_SCORE], [wire.attribute_int("keepdims", 0)]),
    ]
    graph = wire.graph(
        nodes,
        "standardized_distance",
        [wire.value_info(INPUT_NAME, wire.FLOAT, n_dim)],
        [
            wire.value_info(OUTPUT_SCORE, wire.FLOAT, ["batch"]),
            wire.value_info(OUTPUT_CONTRIBUTIONS, wire.FLOAT, n_dim),
        ],
        inits,
    )
    return wire.model(
        graph,
        ir_version=IR_VERSION,
        opset=OPSET,
        producer_name="edgewatch-inference",
        doc_string=doc or "standardised distance: mean of squared z-scores",
        metadata={"edgewatch.kind": "standardized-distance", "edgewatch.features": ",".join(names)},
    )


def reference_score(x: F64, mean: F64, std: F64) -> float:
    """The model's formula in numpy float64 (the oracle for golden vectors and tests)."""
    z = (x - mean) / std
    return float(np.mean(z * z))


def golden_input(mean: F64, std: F64) -> F64:
    """A deterministic probe vector 1, 2, 3, 1, 2, 3... standard deviations above the mean."""
    k = (np.arange(mean.shape[0]) % 3 + 1).astype(np.float64)
    out: F64 = mean + k * std
    return out
