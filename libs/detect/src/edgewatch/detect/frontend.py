"""The causal front end every windowed detector shares: per-channel scaling and one FIR filter per channel.

For a window ``x[W, F]`` ending at sample t (samples t-W+1 .. t only):

    z = (x - center) / scale                 center = median, scale = std of the training rows
    f_j = sum_t K[t, j] * z[t, j]            K: the trailing mean for a fast channel, the trailing slope for a slow one
    d_j = (f_j - mu_j) / sigma_j             mu, sigma: of f over the training windows

Why two filters: a channel whose samples are strongly correlated from one to the next (a temperature: thermal
time constants of many minutes) wanders further than 400 training samples can show, so its *level* has no
learnable normal range and flags drift as an anomaly; its *rate* (mean of the last half window minus the half
before) does. The choice is made from the training rows alone: ``std(diff(x)) / std(x)`` is sqrt(2(1-rho1)),
below 1 exactly when the lag-1 autocorrelation rho1 exceeds 0.5, i.e. when most of a sample's deviation is
still there one sample later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from onnx import NodeProto, TensorProto, helper, numpy_helper

from edgewatch.detect.runtime import sliding_windows

__all__ = ["FrontEnd", "fit_frontend"]

F64 = npt.NDArray[np.float64]
SLOW_RATIO = 1.0  # std(diff) / std below this: lag-1 autocorrelation above 0.5


@dataclass(frozen=True)
class FrontEnd:
    """Fitted front-end constants (float64; the ONNX graph stores them as float32)."""

    center: F64  # [F]
    scale: F64  # [F]
    kernel: F64  # [W, F]
    mu: F64  # [F]
    sigma: F64  # [F]
    slow: npt.NDArray[np.bool_]  # [F]
    gain: F64  # [F]: balances the channels' ranges at the filter bank's input (see onnx_nodes)

    @property
    def window(self) -> int:
        return int(self.kernel.shape[0])

    def standardize(self, windows: F64) -> F64:
        """``z`` for ``[N, W, F]`` windows."""
        out: F64 = (np.asarray(windows, dtype=np.float64) - self.center) / self.scale
        return out

    def features(self, windows: F64) -> F64:
        """``d[N, F]``: the filtered, standardised channel values."""
        f = np.einsum("nwf,wf->nf", self.standardize(windows), self.kernel)
        out: F64 = (f - self.mu) / self.sigma
        return out

    def summary(self) -> dict[str, Any]:
        """What meta.json records about the front end."""
        return {"window": self.window, "slowChannels": [int(i) for i in np.flatnonzero(self.slow)]}

    def block_kernel(self) -> F64:
        """The filters as one ``[W*F, F]`` matrix applied to ``flatten(u)`` (a MatMul that INT8 can quantise)."""
        w, n = self.kernel.shape
        k = self.kernel / self.gain
        out: F64 = np.zeros((w * n, n))
        for t in range(w):
            out[t * n : (t + 1) * n] = np.diag(k[t])
        return out

    def onnx_nodes(self, x: str, prefix: str = "fe") -> tuple[list[NodeProto], list[TensorProto], str, str]:
        """Nodes computing ``z`` and ``d`` from input ``x`` [N, W, F]; returns (nodes, initializers, z, d).

        The filter bank's input is ``u = (z - slow * z_last) * gain``, not ``z``: a slope filter's weights sum
        to zero, so removing the window's last value from a slow channel changes nothing in float, but it takes
        the channel's wandering level out of the tensor; ``gain`` (1 / the spread of u over the training
        windows) then gives every channel the same spread. INT8 quantises this input per tensor, with one
        step size for all channels: balanced, no channel's few meaningful steps drown in another's range.
        """
        p = prefix
        inits = [
            numpy_helper.from_array(self.slow.astype(np.float32), f"{p}_slow"),
            numpy_helper.from_array(self.gain.astype(np.float32), f"{p}_gain"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), f"{p}_m1"),
            numpy_helper.from_array(np.array([1 << 30], dtype=np.int64), f"{p}_end"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), f"{p}_ax1"),
            numpy_helper.from_array(self.center.astype(np.float32), f"{p}_center"),
            numpy_helper.from_array((1.0 / self.scale).astype(np.float32), f"{p}_inv_scale"),
            numpy_helper.from_array(self.block_kernel().astype(np.float32), f"{p}_kernel"),
            numpy_helper.from_array(self.mu.astype(np.float32), f"{p}_mu"),
            numpy_helper.from_array((1.0 / self.sigma).astype(np.float32), f"{p}_inv_sigma"),
        ]
        nodes = [
            helper.make_node("Sub", [x, f"{p}_center"], [f"{p}_c"]),
            helper.make_node("Mul", [f"{p}_c", f"{p}_inv_scale"], [f"{p}_z"]),
            helper.make_node("Slice", [f"{p}_z", f"{p}_m1", f"{p}_end", f"{p}_ax1"], [f"{p}_zl"]),
            helper.make_node("Mul", [f"{p}_zl", f"{p}_slow"], [f"{p}_zls"]),
            helper.make_node("Sub", [f"{p}_z", f"{p}_zls"], [f"{p}_ua"]),
            helper.make_node("Mul", [f"{p}_ua", f"{p}_gain"], [f"{p}_u"]),
            helper.make_node("Flatten", [f"{p}_u"], [f"{p}_uf"], axis=1),
            helper.make_node("MatMul", [f"{p}_uf", f"{p}_kernel"], [f"{p}_f"]),
            helper.make_node("Sub", [f"{p}_f", f"{p}_mu"], [f"{p}_fc"]),
            helper.make_node("Mul", [f"{p}_fc", f"{p}_inv_sigma"], [f"{p}_d"]),
        ]
        return nodes, inits, f"{p}_z", f"{p}_d"


def _kernel(window: int, slow: npt.NDArray[np.bool_]) -> F64:
    w = window
    level = np.full(w, 1.0 / w)
    rate = np.zeros(w)
    h = w // 2
    if h >= 1:
        rate[w - h :] = 1.0 / h
        rate[w - 2 * h : w - h] = -1.0 / h
    return np.where(slow[None, :], rate[:, None], level[:, None])


def fit_frontend(train: F64, window: int) -> FrontEnd:
    """Fit the front end on training rows ``[T, F]`` (already checked: finite, no constant column).

    Raises:
        ValueError: fewer training rows than ``window + 1``.
    """
    x = np.asarray(train, dtype=np.float64)
    if x.shape[0] < window + 1:
        raise ValueError(f"{x.shape[0]} training rows for a window of {window}: need at least {window + 1}")
    center = np.median(x, axis=0)
    std = x.std(axis=0)
    scale = np.maximum(std, np.maximum(np.abs(center) * 1e-6, 1e-12))
    ratio = np.diff(x, axis=0).std(axis=0) / scale
    slow = (ratio < SLOW_RATIO) if window >= 2 else np.zeros(x.shape[1], dtype=bool)
    kernel = _kernel(window, slow)
    z = (sliding_windows(x, window).astype(np.float64) - center) / scale
    f = np.einsum("nwf,wf->nf", z, kernel)
    mu = f.mean(axis=0)
    sigma = np.maximum(f.std(axis=0), 1e-6)
    u = z - z[:, -1:, :] * slow
    gain = 1.0 / np.maximum(u.std(axis=(0, 1)), 1e-6)
    return FrontEnd(center, scale, kernel, mu, sigma, slow, gain)
