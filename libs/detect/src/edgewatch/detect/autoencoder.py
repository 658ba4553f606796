"""A small windowed dense autoencoder trained with Adam in numpy (no PyTorch), exported with the onnx helper API.

Input: the scaled window ``z[W, F]`` with each slow channel's window mean removed (its shape counts, not its
level: see ``frontend``), flattened to W*F. Layers W*F -> 16 (tanh) -> 4 -> 16 (tanh) -> W*F; the score is the
mean squared reconstruction error. Seeded, full determinism: the same rows give the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from onnx import NodeProto, TensorProto, helper, numpy_helper

__all__ = ["DenseAutoencoder", "fit_autoencoder"]

F64 = npt.NDArray[np.float64]
HIDDEN, CODE = 16, 4
EPOCHS, BATCH, LR = 150, 64, 3e-3


@dataclass(frozen=True)
class DenseAutoencoder:
    """Weights (float64) and the slow-channel mask of the input transform."""

    weights: tuple[F64, F64, F64, F64]
    biases: tuple[F64, F64, F64, F64]
    slow: npt.NDArray[np.bool_]
    final_loss: float

    def prepare(self, z: F64) -> F64:
        """``[N, W, F]`` scaled windows -> ``[N, W*F]`` AE inputs (slow channels' window mean removed)."""
        adj = z - z.mean(axis=1, keepdims=True) * self.slow
        out: F64 = adj.reshape(adj.shape[0], -1)
        return out

    def reconstruct(self, a: F64) -> F64:
        (w1, w2, w3, w4), (b1, b2, b3, b4) = self.weights, self.biases
        h = np.tanh(a @ w1 + b1)
        c = h @ w2 + b2
        g = np.tanh(c @ w3 + b3)
        out: F64 = g @ w4 + b4
        return out

    def score(self, z: F64) -> F64:
        a = self.prepare(z)
        r = self.reconstruct(a) - a
        out: F64 = (r * r).mean(axis=1)
        return out

    def summary(self) -> dict[str, Any]:
        return {"layers": [self.weights[0].shape[0], HIDDEN, CODE, HIDDEN], "trainLoss": self.final_loss}

    def onnx_nodes(self, z: str, slow: npt.NDArray[np.bool_], out: str) -> tuple[list[NodeProto], list[TensorProto]]:
        """Nodes from scaled windows ``z`` [N, W, F] to the score ``out`` [N]."""
        p = "ae"
        inits = [numpy_helper.from_array(slow.astype(np.float32), f"{p}_slow")]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            inits += [
                numpy_helper.from_array(w.astype(np.float32), f"{p}_w{i}"),
                numpy_helper.from_array(b.astype(np.float32), f"{p}_b{i}"),
            ]
        n = helper.make_node
        nodes = [
            n("ReduceMean", [z], [f"{p}_zm"], axes=[1], keepdims=1),
            n("Mul", [f"{p}_zm", f"{p}_slow"], [f"{p}_zms"]),
            n("Sub", [z, f"{p}_zms"], [f"{p}_adj"]),
            n("Flatten", [f"{p}_adj"], [f"{p}_a"], axis=1),
        ]
        x = f"{p}_a"
        for i in range(4):
            nodes += [n("MatMul", [x, f"{p}_w{i}"], [f"{p}_m{i}"]), n("Add", [f"{p}_m{i}", f"{p}_b{i}"], [f"{p}_l{i}"])]
            x = f"{p}_l{i}"
            if i in (0, 2):
                nodes.append(n("Tanh", [x], [f"{p}_t{i}"]))
                x = f"{p}_t{i}"
        nodes += [
            n("Sub", [x, f"{p}_a"], [f"{p}_r"]),
            n("Mul", [f"{p}_r", f"{p}_r"], [f"{p}_r2"]),
            n("ReduceMean", [f"{p}_r2"], [out], axes=[1], keepdims=0),
        ]
        return nodes, inits


def fit_autoencoder(z: F64, slow: npt.NDArray[np.bool_], *, seed: int = 0) -> DenseAutoencoder:
    """Train on scaled training windows ``z`` [N, W, F] (mean squared error, Adam, minibatches)."""
    rng = np.random.default_rng(seed)
    shell = DenseAutoencoder((np.zeros(0),) * 4, (np.zeros(0),) * 4, slow, 0.0)  # type: ignore[arg-type]
    a = shell.prepare(z)
    sizes = [a.shape[1], HIDDEN, CODE, HIDDEN, a.shape[1]]
    params: list[F64] = []
    for i in range(4):
        params.append(rng.normal(0.0, np.sqrt(1.0 / sizes[i]), (sizes[i], sizes[i + 1])))
        params.append(np.zeros(sizes[i + 1]))
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    step, loss = 0, 0.0
    for _ in range(EPOCHS):
        order = rng.permutation(a.shape[0])
        for start in range(0, a.shape[0], BATCH):
            xb = a[order[start : start + BATCH]]
            grads, loss = _backprop(params, xb)
            step += 1
            for j, g in enumerate(grads):
                m[j] = 0.9 * m[j] + 0.1 * g
                v[j] = 0.999 * v[j] + 0.001 * g * g
                mh, vh = m[j] / (1 - 0.9**step), v[j] / (1 - 0.999**step)
                params[j] = params[j] - LR * mh / (np.sqrt(vh) + 1e-8)
    w = (params[0], params[2], params[4], params[6])
    b = (params[1], params[3], params[5], params[7])
    return DenseAutoencoder(w, b, slow, loss)


def _backprop(p: list[F64], x: F64) -> tuple[list[F64], float]:
    w1, b1, w2, b2, w3, b3, w4, b4 = p
    h = np.tanh(x @ w1 + b1)
    c = h @ w2 + b2
    g = np.tanh(c @ w3 + b3)
    y = g @ w4 + b4
    n = x.shape[0] * x.shape[1]
    dy = 2.0 * (y - x) / n
    dw4, db4 = g.T @ dy, dy.sum(axis=0)
    dg = (dy @ w4.T) * (1 - g * g)
    dw3, db3 = c.T @ dg, dg.sum(axis=0)
    dc = dg @ w3.T
    dw2, db2 = h.T @ dc, dc.sum(axis=0)
    dh = (dc @ w2.T) * (1 - h * h)
    dw1, db1 = x.T @ dh, dh.sum(axis=0)
    loss = float(((y - x) ** 2).mean())
    return [dw1, db1, dw2, db2, dw3, db3, dw4, db4], loss
