"""The detectors: each fits on normal rows, scores causal windows in numpy (the reference) and exports to ONNX.

| name | score of a window ending at t |
|---|---|
| ``zscore`` | the inference service's baseline: mean squared z-score of the latest vector (window 1) |
| ``filtered-z`` | max over channels of the standardised front-end value ``|d_j|`` (trailing mean / slope) |
| ``pca`` | PCA on ``d``: T2 / its training 99th percentile + Q (SPE) / its training 99th percentile |
| ``iforest`` | Isolation Forest (scikit-learn; exported by ``iforest.py``) on ``d``: minus its decision function |
| ``dense-ae`` | windowed dense autoencoder (numpy, Adam) on the scaled window: mean squared reconstruction error |
| ``conv-ae`` | the same with a 1-D convolution over time as its first layer (ONNX ``Conv``) |
| ``lstm-ae`` | LSTM autoencoder (numpy BPTT, Adam; ONNX ``LSTM``): one LSTM layer's last state decoded to the window |
| ``hybrid`` | ``filtered-z`` gates ``dense-ae``: the AE runs, and its score counts, only where stage 1 opens the gate |

All are causal: a window holds samples t-W+1 .. t only (``runtime.WindowBuffer``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from onnx import NodeProto, TensorProto, helper, numpy_helper

from edgewatch.detect.autoencoder import DenseAutoencoder, fit_autoencoder
from edgewatch.detect.frontend import FrontEnd, fit_frontend
from edgewatch.detect.graph import INPUT, OUTPUT, make_model
from edgewatch.detect.runtime import sliding_windows

__all__ = ["ALGORITHMS", "DEFAULT_ALGORITHM", "DEFAULT_WINDOW", "Detector", "fit_detector"]

F64 = npt.NDArray[np.float64]
DEFAULT_ALGORITHM = "filtered-z"
DEFAULT_WINDOW = 10  # samples: noise std / sqrt(10) on the trailing mean, at most 10 samples of onset delay
PCA_VARIANCE = 0.9
HYBRID_GATE = 0.5  # stage 1 at half its threshold opens the gate
IFOREST_TREES, IFOREST_SAMPLES = 100, 256  # scikit-learn's defaults (Liu et al. 2008)


@dataclass
class Detector:
    """A fitted detector: numpy reference score, ONNX export, and what meta.json records about it."""

    algorithm: str
    window: int
    n_features: int
    reference: Callable[[F64], F64]
    onnx_parts: Callable[[], tuple[list[NodeProto], list[TensorProto], dict[str, int]]]
    info: dict[str, Any] = field(default_factory=dict)

    def score(self, windows: npt.ArrayLike) -> F64:
        """Numpy float64 scores of ``[N, W, F]`` windows."""
        return self.reference(np.asarray(windows, dtype=np.float64))

    def to_onnx(self) -> bytes:
        """The serialised ONNX model (input ``input`` [N, W, F], output ``score`` [N])."""
        nodes, inits, opsets = self.onnx_parts()
        return make_model(nodes, inits, self.window, self.n_features, algorithm=self.algorithm, extra_opsets=opsets)


def _const(name: str, value: Any) -> TensorProto:
    arr = np.asarray(value)
    return numpy_helper.from_array(arr.astype(np.int64 if arr.dtype.kind == "i" else np.float32), name)


def _max_abs(fe: FrontEnd) -> Callable[[F64], F64]:
    def ref(w: F64) -> F64:
        out: F64 = np.abs(fe.features(w)).max(axis=1)
        return out

    return ref


def _max_abs_nodes(d: str, out: str) -> list[NodeProto]:
    return [
        helper.make_node("Abs", [d], [f"{out}_abs"]),
        helper.make_node("ReduceMax", [f"{out}_abs"], [out], axes=[1], keepdims=0),
    ]


def _zscore(train: F64, _window: int) -> Detector:
    mean = train.mean(axis=0)
    std = np.maximum(train.std(axis=0, ddof=1), np.maximum(np.abs(mean) * 0.02, 1e-6))  # the service's floor
    n = train.shape[1]

    def ref(w: F64) -> F64:
        z = (w[:, -1, :] - mean) / std
        out: F64 = (z * z).mean(axis=1)
        return out

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        # element-wise only, as the service's baseline: INT8 has no weight-bearing operator to quantise here (a
        # MatMul by diag(1/std) would quantise x - mean per tensor, across channels whose ranges differ 10^4-fold)
        inits = [_const("mean", mean), _const("inv_std", 1.0 / std), _const("axis1", [1])]
        nodes = [
            helper.make_node("Squeeze", [INPUT, "axis1"], ["last"]),
            helper.make_node("Sub", ["last", "mean"], ["c"]),
            helper.make_node("Mul", ["c", "inv_std"], ["z"]),
            helper.make_node("Mul", ["z", "z"], ["z2"]),
            helper.make_node("ReduceMean", ["z2"], [OUTPUT], axes=[1], keepdims=0),
        ]
        return nodes, inits, {}

    return Detector("zscore", 1, n, ref, parts)


def _filtered_z(train: F64, window: int) -> Detector:
    fe = fit_frontend(train, window)

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        nodes, inits, _z, d = fe.onnx_nodes(INPUT)
        return nodes + _max_abs_nodes(d, OUTPUT), inits, {}

    return Detector("filtered-z", window, train.shape[1], _max_abs(fe), parts, fe.summary())


def _pca(train: F64, window: int) -> Detector:
    fe = fit_frontend(train, window)
    d = fe.features(sliding_windows(train, window).astype(np.float64))
    _u, s, vt = np.linalg.svd(d - d.mean(axis=0), full_matrices=False)
    lam = s**2 / max(d.shape[0] - 1, 1)
    k = int(np.searchsorted(np.cumsum(lam) / lam.sum(), PCA_VARIANCE) + 1)
    k = min(k, d.shape[1] - 1) if d.shape[1] > 1 else 1
    p = vt[:k].T  # [F, k]
    inv_lam = 1.0 / np.maximum(lam[:k], 1e-9)

    def t2q(dd: F64) -> tuple[F64, F64]:
        t = dd @ p
        r = dd - t @ p.T
        return (t * t * inv_lam).sum(axis=1), (r * r).sum(axis=1)

    t2_tr, q_tr = t2q(d)
    t2_lim = max(float(np.quantile(t2_tr, 0.99)), 1e-9)
    q_lim = max(float(np.quantile(q_tr, 0.99)), 1e-9)

    def ref(w: F64) -> F64:
        t2, q = t2q(fe.features(w))
        out: F64 = t2 / t2_lim + q / q_lim
        return out

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        nodes, inits, _z, dn = fe.onnx_nodes(INPUT)
        inits += [
            _const("pca_p", p),
            _const("pca_res", np.eye(p.shape[0]) - p @ p.T),
            _const("pca_w", inv_lam / t2_lim),
            _const("pca_qs", 1.0 / q_lim),
            _const("pca_ax", [1]),
        ]
        nodes += [
            helper.make_node("MatMul", [dn, "pca_p"], ["pca_t"]),
            helper.make_node("Mul", ["pca_t", "pca_t"], ["pca_t2e"]),
            helper.make_node("Mul", ["pca_t2e", "pca_w"], ["pca_t2w"]),
            helper.make_node("ReduceSum", ["pca_t2w", "pca_ax"], ["pca_t2"], keepdims=0),
            # r = d (I - P P^T): one MatMul from d, so INT8 quantises d once instead of a difference of two
            helper.make_node("MatMul", [dn, "pca_res"], ["pca_r"]),
            helper.make_node("Mul", ["pca_r", "pca_r"], ["pca_r2"]),
            helper.make_node("ReduceSum", ["pca_r2", "pca_ax"], ["pca_q"], keepdims=0),
            helper.make_node("Mul", ["pca_q", "pca_qs"], ["pca_qn"]),
            helper.make_node("Add", ["pca_t2", "pca_qn"], [OUTPUT]),
        ]
        return nodes, inits, {}

    info = fe.summary() | {"components": k, "t2Limit": t2_lim, "qLimit": q_lim}
    return Detector("pca", window, train.shape[1], ref, parts, info)


def _iforest(train: F64, window: int) -> Detector:
    from sklearn.ensemble import IsolationForest

    from edgewatch.detect.iforest import iforest_nodes

    fe = fit_frontend(train, window)
    d = fe.features(sliding_windows(train, window).astype(np.float64)).astype(np.float32)
    clf = IsolationForest(n_estimators=IFOREST_TREES, max_samples=min(IFOREST_SAMPLES, d.shape[0]), random_state=0)
    clf.fit(d)

    def ref(w: F64) -> F64:
        out: F64 = -clf.decision_function(fe.features(w).astype(np.float32)).astype(np.float64)
        return out

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        nodes, inits, _z, dn = fe.onnx_nodes(INPUT)
        more, more_inits = iforest_nodes(clf, dn, OUTPUT)
        return nodes + more, inits + more_inits, {"ai.onnx.ml": 3}

    info = fe.summary() | {"trees": IFOREST_TREES, "maxSamples": int(clf.max_samples_)}
    return Detector("iforest", window, train.shape[1], ref, parts, info)


def _ae_parts(fe: FrontEnd, ae: DenseAutoencoder, out: str) -> tuple[list[NodeProto], list[TensorProto]]:
    nodes, inits, z, _d = fe.onnx_nodes(INPUT)
    more, more_inits = ae.onnx_nodes(z, fe.slow, out)
    return nodes + more, inits + more_inits


def _dense_ae(train: F64, window: int) -> Detector:
    fe = fit_frontend(train, window)
    ae = fit_autoencoder(fe.standardize(sliding_windows(train, window).astype(np.float64)), fe.slow)

    def ref(w: F64) -> F64:
        return ae.score(fe.standardize(w))

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        nodes, inits = _ae_parts(fe, ae, OUTPUT)
        return nodes, inits, {}

    return Detector("dense-ae", window, train.shape[1], ref, parts, fe.summary() | ae.summary())


def _conv_ae(train: F64, window: int) -> Detector:
    fe = fit_frontend(train, window)
    ae = fit_autoencoder(fe.standardize(sliding_windows(train, window).astype(np.float64)), fe.slow, conv=True)

    def ref(w: F64) -> F64:
        return ae.score(fe.standardize(w))

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        nodes, inits = _ae_parts(fe, ae, OUTPUT)
        return nodes, inits, {}

    return Detector("conv-ae", window, train.shape[1], ref, parts, fe.summary() | ae.summary())


def _lstm_ae(train: F64, window: int) -> Detector:
    from edgewatch.detect.lstm import fit_lstm_autoencoder

    fe = fit_frontend(train, window)
    ae = fit_lstm_autoencoder(fe.standardize(sliding_windows(train, window).astype(np.float64)), fe.slow)

    def ref(w: F64) -> F64:
        return ae.score(fe.standardize(w))

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        nodes, inits, z, _d = fe.onnx_nodes(INPUT)
        more, more_inits = ae.onnx_nodes(z, OUTPUT)
        return nodes + more, inits + more_inits, {}

    return Detector("lstm-ae", window, train.shape[1], ref, parts, fe.summary() | ae.summary())


def _hybrid(train: F64, window: int) -> Detector:
    from edgewatch.detect.calibrate import DEFAULT_FACTOR, DEFAULT_QUANTILE

    fe = fit_frontend(train, window)
    train_w = sliding_windows(train, window).astype(np.float64)
    ae = fit_autoencoder(fe.standardize(train_w), fe.slow)
    s1 = _max_abs(fe)
    thr1 = float(np.quantile(s1(train_w), DEFAULT_QUANTILE)) * DEFAULT_FACTOR
    thr2 = float(np.quantile(ae.score(fe.standardize(train_w)), DEFAULT_QUANTILE)) * DEFAULT_FACTOR

    def ref(w: F64) -> F64:
        a, b = s1(w) / thr1, ae.score(fe.standardize(w)) / thr2
        out: F64 = np.where(a > HYBRID_GATE, b, np.minimum(a, HYBRID_GATE))
        return out

    def parts() -> tuple[list[NodeProto], list[TensorProto], dict[str, int]]:
        # stage 1 on every window; the AE only on the windows whose stage 1 opens the gate (Compress), its scores
        # scattered back (ScatterND): a batch where no gate opens runs no AE layer at all
        nodes, inits, z, d = fe.onnx_nodes(INPUT)
        nodes += _max_abs_nodes(d, "hy_s1")
        inits += [
            _const("hy_inv1", 1.0 / thr1),
            _const("hy_inv2", 1.0 / thr2),
            _const("hy_gate", HYBRID_GATE),
        ]
        n = helper.make_node
        nodes += [
            n("Mul", ["hy_s1", "hy_inv1"], ["hy_a"]),
            n("Greater", ["hy_a", "hy_gate"], ["hy_open"]),
            n("Min", ["hy_a", "hy_gate"], ["hy_closed"]),
            n("Compress", [z, "hy_open"], ["hy_zg"], axis=0),  # [K, W, F], K = windows through the gate
            n("NonZero", ["hy_open"], ["hy_idx_t"]),  # [1, K]
            n("Transpose", ["hy_idx_t"], ["hy_idx"], perm=[1, 0]),  # [K, 1]
        ]
        more, more_inits = ae.onnx_nodes("hy_zg", fe.slow, "hy_ae")
        nodes += more
        inits += more_inits
        nodes += [
            n("Mul", ["hy_ae", "hy_inv2"], ["hy_bg"]),
            n("ScatterND", ["hy_closed", "hy_idx", "hy_bg"], [OUTPUT]),
        ]
        return nodes, inits, {}

    info = fe.summary() | ae.summary() | {"stage1Threshold": thr1, "stage2Threshold": thr2, "gate": HYBRID_GATE}
    return Detector("hybrid", window, train.shape[1], ref, parts, info)


ALGORITHMS: dict[str, Callable[[F64, int], Detector]] = {
    "zscore": _zscore,
    "filtered-z": _filtered_z,
    "pca": _pca,
    "iforest": _iforest,
    "dense-ae": _dense_ae,
    "conv-ae": _conv_ae,
    "lstm-ae": _lstm_ae,
    "hybrid": _hybrid,
}


def fit_detector(algorithm: str, train: F64, window: int = DEFAULT_WINDOW) -> Detector:
    """Fit ``algorithm`` on checked training rows ``[T, F]``.

    Raises:
        KeyError: an unknown algorithm (the message lists the known ones).
    """
    try:
        fit = ALGORITHMS[algorithm]
    except KeyError:
        raise KeyError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}") from None
    return fit(np.asarray(train, dtype=np.float64), window)
