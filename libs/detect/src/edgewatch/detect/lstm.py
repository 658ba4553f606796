"""LSTM autoencoder over the window, trained with Adam and backpropagation through time written in numpy.

Input: the same prepared window as the dense AE (``autoencoder.DenseAutoencoder.prepare``: the scaled window with
each slow channel's window mean removed), as a sequence of W rows of F values. Encoder: one LSTM layer (HIDDEN
units) over the W rows, oldest first; its last hidden state is the code. Decoder: one dense layer from the code
to the W*F window. Score: the mean squared reconstruction error. The window is short (W ~ 10), so the gradient is
backpropagated through the whole window (no truncation inside it); nothing crosses windows, so the detector stays
causal.

ONNX: the standard ``LSTM`` operator (opset 17). Its gate order is i, o, f, c (input, output, forget, cell), and
this module keeps its gates in that order too, so the export is a transpose: ``W = Wx^T [1, 4H, F]``,
``R = Wh^T [1, 4H, H]``, ``B = [b, 0] [1, 8H]`` (ONNX adds a separate recurrence bias, zero here).
Seeded: the same rows give the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from onnx import NodeProto, TensorProto, helper, numpy_helper

__all__ = ["LstmAutoencoder", "fit_lstm_autoencoder", "lstm_backprop", "lstm_loss"]

F64 = npt.NDArray[np.float64]
HIDDEN = 8
EPOCHS, BATCH, LR = 80, 64, 5e-3


def _sigmoid(x: F64) -> F64:
    out: F64 = 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|
    return out


@dataclass(frozen=True)
class LstmAutoencoder:
    """Weights (float64), gates in ONNX order i, o, f, c: ``wx [F, 4H]``, ``wh [H, 4H]``, ``b [4H]``; decoder
    ``wd [H, W*F]``, ``bd [W*F]``."""

    wx: F64
    wh: F64
    b: F64
    wd: F64
    bd: F64
    slow: npt.NDArray[np.bool_]
    final_loss: float

    @property
    def params(self) -> list[F64]:
        return [self.wx, self.wh, self.b, self.wd, self.bd]

    def prepare(self, z: F64) -> F64:
        """``[N, W, F]`` scaled windows -> ``[N, W, F]`` encoder inputs (slow channels' window mean removed)."""
        out: F64 = z - z.mean(axis=1, keepdims=True) * self.slow
        return out

    def score(self, z: F64) -> F64:
        x = self.prepare(z)
        y, _ = _forward(self.params, x)
        r = y - x.reshape(x.shape[0], -1)
        out: F64 = (r * r).mean(axis=1)
        return out

    def summary(self) -> dict[str, Any]:
        return {"layers": [f"lstm{self.wh.shape[0]}", self.wd.shape[1]], "trainLoss": self.final_loss}

    def onnx_nodes(self, z: str, out: str, prefix: str = "lae") -> tuple[list[NodeProto], list[TensorProto]]:
        """Nodes from scaled windows ``z`` [N, W, F] to the score ``out`` [N]."""
        p = prefix
        h = self.wh.shape[0]

        def init(arr: Any, name: str) -> TensorProto:
            a = np.asarray(arr)
            return numpy_helper.from_array(a.astype(np.int64 if a.dtype.kind == "i" else np.float32), f"{p}_{name}")

        inits = [
            init(self.slow.astype(np.float32), "slow"),
            init(self.wx.T[None], "W"),
            init(self.wh.T[None], "R"),
            init(np.concatenate([self.b, np.zeros(4 * h)])[None], "B"),
            init(self.wd, "wd"),
            init(self.bd, "bd"),
            init(np.array([0], dtype=np.int64), "ax0"),
        ]
        n = helper.make_node
        nodes = [
            n("ReduceMean", [z], [f"{p}_zm"], axes=[1], keepdims=1),
            n("Mul", [f"{p}_zm", f"{p}_slow"], [f"{p}_zms"]),
            n("Sub", [z, f"{p}_zms"], [f"{p}_x"]),
            n("Transpose", [f"{p}_x"], [f"{p}_seq"], perm=[1, 0, 2]),  # [W, N, F]: ONNX LSTM's layout 0
            n("LSTM", [f"{p}_seq", f"{p}_W", f"{p}_R", f"{p}_B"], ["", f"{p}_hn"], hidden_size=h),
            n("Squeeze", [f"{p}_hn", f"{p}_ax0"], [f"{p}_code"]),  # [1, N, H] -> [N, H]
            n("MatMul", [f"{p}_code", f"{p}_wd"], [f"{p}_md"]),
            n("Add", [f"{p}_md", f"{p}_bd"], [f"{p}_y"]),
            n("Flatten", [f"{p}_x"], [f"{p}_a"], axis=1),
            n("Sub", [f"{p}_y", f"{p}_a"], [f"{p}_r"]),
            n("Mul", [f"{p}_r", f"{p}_r"], [f"{p}_r2"]),
            n("ReduceMean", [f"{p}_r2"], [out], axes=[1], keepdims=0),
        ]
        return nodes, inits


def _forward(p: list[F64], x: F64) -> tuple[F64, list[tuple[F64, ...]]]:
    """Reconstruction ``[N, W*F]`` of ``x [N, W, F]`` and the per-step cache for backpropagation."""
    wx, wh, b, wd, bd = p
    n, w, _f = x.shape
    hs = wh.shape[0]
    h = np.zeros((n, hs))
    c = np.zeros((n, hs))
    cache: list[tuple[F64, ...]] = []
    for t in range(w):
        a = x[:, t, :] @ wx + h @ wh + b
        i, o, f = _sigmoid(a[:, :hs]), _sigmoid(a[:, hs : 2 * hs]), _sigmoid(a[:, 2 * hs : 3 * hs])
        g = np.tanh(a[:, 3 * hs :])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        cache.append((h, c, i, o, f, g, tc))
        h, c = o * tc, c_new
    y: F64 = h @ wd + bd
    cache.append((h,))
    return y, cache


def lstm_loss(p: list[F64], x: F64) -> float:
    """Mean squared reconstruction error of ``x [N, W, F]`` (the training loss)."""
    y, _ = _forward(p, x)
    return float(((y - x.reshape(x.shape[0], -1)) ** 2).mean())


def lstm_backprop(p: list[F64], x: F64) -> tuple[list[F64], float]:
    """Gradients of ``lstm_loss`` with respect to ``p`` (backpropagation through the whole window), and the loss."""
    wx, wh, _b, wd, _bd = p
    n, w, _f = x.shape
    hs = wh.shape[0]
    y, cache = _forward(p, x)
    target = x.reshape(n, -1)
    dy = 2.0 * (y - target) / y.size
    h_last = cache[-1][0]
    dwd, dbd = h_last.T @ dy, dy.sum(axis=0)
    dh = dy @ wd.T
    dc = np.zeros((n, hs))
    dwx, dwh, db = np.zeros_like(wx), np.zeros_like(wh), np.zeros(4 * hs)
    for t in range(w - 1, -1, -1):
        h_prev, c_prev, i, o, f, g, tc = cache[t]
        do = dh * tc
        dc = dc + dh * o * (1.0 - tc * tc)
        da = np.concatenate(
            [
                dc * g * i * (1.0 - i),
                do * o * (1.0 - o),
                dc * c_prev * f * (1.0 - f),
                dc * i * (1.0 - g * g),
            ],
            axis=1,
        )
        dwx += x[:, t, :].T @ da
        dwh += h_prev.T @ da
        db += da.sum(axis=0)
        dh = da @ wh.T
        dc = dc * f
    loss = float(((y - target) ** 2).mean())
    return [dwx, dwh, db, dwd, dbd], loss


def init_params(n_features: int, window: int, hidden: int, rng: np.random.Generator) -> list[F64]:
    """Glorot-scaled weights, forget-gate bias 1 (remember by default), zero biases elsewhere."""
    wx = rng.normal(0.0, np.sqrt(1.0 / n_features), (n_features, 4 * hidden))
    wh = rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, 4 * hidden))
    b = np.zeros(4 * hidden)
    b[2 * hidden : 3 * hidden] = 1.0
    wd = rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, window * n_features))
    return [wx, wh, b, wd, np.zeros(window * n_features)]


def fit_lstm_autoencoder(z: F64, slow: npt.NDArray[np.bool_], *, seed: int = 0) -> LstmAutoencoder:
    """Train on scaled training windows ``z`` [N, W, F] (mean squared error, Adam, minibatches)."""
    rng = np.random.default_rng(seed)
    shell = LstmAutoencoder(*(np.zeros(0),) * 5, slow=slow, final_loss=0.0)
    x = shell.prepare(np.asarray(z, dtype=np.float64))
    params = init_params(x.shape[2], x.shape[1], HIDDEN, rng)
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    step = 0
    for _ in range(EPOCHS):
        order = rng.permutation(x.shape[0])
        for start in range(0, x.shape[0], BATCH):
            grads, _loss = lstm_backprop(params, x[order[start : start + BATCH]])
            step += 1
            for j, gr in enumerate(grads):
                m[j] = 0.9 * m[j] + 0.1 * gr
                v[j] = 0.999 * v[j] + 0.001 * gr * gr
                mh, vh = m[j] / (1 - 0.9**step), v[j] / (1 - 0.999**step)
                params[j] = params[j] - LR * mh / (np.sqrt(vh) + 1e-8)
    wx, wh, b, wd, bd = params
    return LstmAutoencoder(wx, wh, b, wd, bd, slow, lstm_loss(params, x))
