"""Small windowed autoencoders trained with Adam in numpy (no PyTorch), exported with the onnx helper API.

Input: the scaled window ``z[W, F]`` with each slow channel's window mean removed (its shape counts, not its
level: see ``frontend``), flattened to W*F. Dense AE: W*F -> 16 (tanh) -> 4 -> 16 (tanh) -> W*F. Conv-AE: the
first layer is a 1-D convolution over time instead (F -> 8 channels, kernel 3, no padding: (W-2)*8 tanh units),
then the same 4-unit code and dense decoder. The score is the mean squared reconstruction error. Seeded: the same
rows give the same model.
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
CONV_CHANNELS, CONV_KERNEL = 8, 3
EPOCHS, BATCH, LR = 150, 64, 3e-3


@dataclass(frozen=True)
class DenseAutoencoder:
    """Weights (float64) and the slow-channel mask of the input transform."""

    weights: tuple[F64, F64, F64, F64]
    biases: tuple[F64, F64, F64, F64]
    slow: npt.NDArray[np.bool_]
    final_loss: float
    conv: tuple[int, int] | None = None  # (W, F) when the first layer is a convolution over time

    def prepare(self, z: F64) -> F64:
        """``[N, W, F]`` scaled windows -> ``[N, W*F]`` AE inputs (slow channels' window mean removed)."""
        adj = z - z.mean(axis=1, keepdims=True) * self.slow
        out: F64 = adj.reshape(adj.shape[0], -1)
        return out

    def reconstruct(self, a: F64) -> F64:
        (w1, w2, w3, w4), (b1, b2, b3, b4) = self.weights, self.biases
        h = np.tanh(_first(a, w1, b1, self.conv)[0])
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
        first = f"conv{CONV_CHANNELS}x{CONV_KERNEL}" if self.conv else HIDDEN
        return {"layers": [self.weights[3].shape[1], first, CODE, HIDDEN], "trainLoss": self.final_loss}

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
        x, first = f"{p}_a", 0
        if self.conv is not None:
            _w, n_feat = self.conv
            kernel = self.weights[0].reshape(CONV_KERNEL, n_feat, CONV_CHANNELS).transpose(2, 1, 0)  # [C, F, k]
            inits[1] = numpy_helper.from_array(kernel.astype(np.float32), f"{p}_w0")
            nodes += [
                n("Transpose", [f"{p}_adj"], [f"{p}_adjt"], perm=[0, 2, 1]),
                n("Conv", [f"{p}_adjt", f"{p}_w0", f"{p}_b0"], [f"{p}_cv"], kernel_shape=[CONV_KERNEL]),
                n("Transpose", [f"{p}_cv"], [f"{p}_cvt"], perm=[0, 2, 1]),
                n("Flatten", [f"{p}_cvt"], [f"{p}_l0"], axis=1),
                n("Tanh", [f"{p}_l0"], [f"{p}_t0"]),
            ]
            x, first = f"{p}_t0", 1
        for i in range(first, 4):
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


def _im2col(a: F64, conv: tuple[int, int]) -> F64:
    """``[N, W*F]`` -> ``[N, W-k+1, k*F]``: the k consecutive rows each convolution output sees."""
    w, f = conv
    x = a.reshape(a.shape[0], w, f)
    return np.concatenate([x[:, i : w - CONV_KERNEL + 1 + i, :] for i in range(CONV_KERNEL)], axis=2)


def _first(a: F64, w1: F64, b1: F64, conv: tuple[int, int] | None) -> tuple[F64, F64 | None]:
    """First layer pre-activation ``[N, H1]`` (and the im2col columns for a convolution)."""
    if conv is None:
        out: F64 = a @ w1 + b1
        return out, None
    cols = _im2col(a, conv)
    pre: F64 = (cols @ w1 + b1).reshape(a.shape[0], -1)
    return pre, cols


def fit_autoencoder(z: F64, slow: npt.NDArray[np.bool_], *, conv: bool = False, seed: int = 0) -> DenseAutoencoder:
    """Train on scaled training windows ``z`` [N, W, F] (mean squared error, Adam, minibatches)."""
    rng = np.random.default_rng(seed)
    shell = DenseAutoencoder((np.zeros(0),) * 4, (np.zeros(0),) * 4, slow, 0.0)  # type: ignore[arg-type]
    a = shell.prepare(z)
    shape = (z.shape[1], z.shape[2]) if conv else None
    if shape is not None:
        first_in, first_out = CONV_KERNEL * shape[1], CONV_CHANNELS
        h1 = (shape[0] - CONV_KERNEL + 1) * CONV_CHANNELS
    else:
        first_in, first_out, h1 = a.shape[1], HIDDEN, HIDDEN
    params: list[F64] = [rng.normal(0.0, np.sqrt(1.0 / first_in), (first_in, first_out)), np.zeros(first_out)]
    sizes = [h1, CODE, HIDDEN, a.shape[1]]
    for i in range(3):
        params.append(rng.normal(0.0, np.sqrt(1.0 / sizes[i]), (sizes[i], sizes[i + 1])))
        params.append(np.zeros(sizes[i + 1]))
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    step, loss = 0, 0.0
    for _ in range(EPOCHS):
        order = rng.permutation(a.shape[0])
        for start in range(0, a.shape[0], BATCH):
            xb = a[order[start : start + BATCH]]
            grads, loss = _backprop(params, xb, shape)
            step += 1
            for j, g in enumerate(grads):
                m[j] = 0.9 * m[j] + 0.1 * g
                v[j] = 0.999 * v[j] + 0.001 * g * g
                mh, vh = m[j] / (1 - 0.9**step), v[j] / (1 - 0.999**step)
                params[j] = params[j] - LR * mh / (np.sqrt(vh) + 1e-8)
    w = (params[0], params[2], params[4], params[6])
    b = (params[1], params[3], params[5], params[7])
    return DenseAutoencoder(w, b, slow, loss, shape)


def _backprop(p: list[F64], x: F64, conv: tuple[int, int] | None) -> tuple[list[F64], float]:
    w1, b1, w2, b2, w3, b3, w4, b4 = p
    pre, cols = _first(x, w1, b1, conv)
    h = np.tanh(pre)
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
    if cols is None:
        dw1, db1 = x.T @ dh, dh.sum(axis=0)
    else:
        dhc = dh.reshape(-1, w1.shape[1])
        dw1, db1 = cols.reshape(-1, w1.shape[0]).T @ dhc, dhc.sum(axis=0)
    loss = float(((y - x) ** 2).mean())
    return [dw1, db1, dw2, db2, dw3, db3, dw4, db4], loss
