"""Thresholds from normal-data scores only: a quantile times a factor, or peaks over threshold (SPOT's EVT).

``quantile``: threshold = factor * quantile_q(scores). The factor (> 1) is a margin for scores computed on the
very rows the model was fitted on, which are smaller than scores of unseen normal rows.
``pot``: fit a generalised Pareto distribution to the excesses over an initial quantile (method of moments,
as in SPOT's initialisation, Siffer et al. KDD 2017) and take the score exceeded with probability ``risk``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_FACTOR", "DEFAULT_QUANTILE", "DEFAULT_RISK", "calibrate"]

DEFAULT_QUANTILE = 0.99
DEFAULT_FACTOR = 1.25
DEFAULT_RISK = 1e-3
POT_INIT_QUANTILE = 0.98


def calibrate(
    scores: npt.ArrayLike,
    method: str = "quantile",
    *,
    quantile: float = DEFAULT_QUANTILE,
    factor: float = DEFAULT_FACTOR,
    risk: float = DEFAULT_RISK,
) -> tuple[float, dict[str, Any]]:
    """The threshold and the calibration summary meta.json stores.

    Raises:
        ValueError: no finite scores, or an unknown method.
    """
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0:
        raise ValueError("no finite calibration scores")
    summary: dict[str, Any] = {
        "n": int(s.size),
        "scoreMean": float(s.mean()),
        "scoreStd": float(s.std()),
        "scoreMax": float(s.max()),
    }
    if method == "quantile":
        thr = float(np.quantile(s, quantile)) * factor
        summary |= {"quantile": quantile, "factor": factor}
    elif method == "pot":
        thr, extra = _pot(s, risk)
        summary |= extra
    else:
        raise ValueError(f"unknown threshold method {method!r} (quantile, pot)")
    return thr, summary


def _pot(s: npt.NDArray[np.float64], risk: float) -> tuple[float, dict[str, Any]]:
    t0 = float(np.quantile(s, POT_INIT_QUANTILE))
    peaks = s[s > t0] - t0
    info: dict[str, Any] = {"risk": risk, "initQuantile": POT_INIT_QUANTILE, "initThreshold": t0, "peaks": peaks.size}
    if peaks.size < 3 or float(peaks.var()) == 0.0:
        return float(s.max()), info | {"fallback": "max"}
    mean, var = float(peaks.mean()), float(peaks.var())
    gamma = 0.5 * (1.0 - mean * mean / var)
    sigma = 0.5 * mean * (mean * mean / var + 1.0)
    r = risk * s.size / peaks.size
    thr = t0 + sigma / gamma * (r ** (-gamma) - 1.0) if abs(gamma) > 1e-9 else t0 - sigma * math.log(r)
    return float(max(thr, t0)), info | {"gamma": gamma, "sigma": sigma}
