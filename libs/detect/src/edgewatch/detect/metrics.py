"""SKAB's metrics: pooled point-wise F1 / FAR / MAR (no point adjustment) and the NAB changepoint scores.

NAB follows SKAB/TSAD ``chp_score`` as ../shared/datasets/PROVENANCE.md section 1.1 describes it: predicted
changepoints are |diff| of the binary prediction (the first element is the prediction itself); each true
changepoint opens a window of ``window`` samples to its right, trimmed so windows never overlap; the first
prediction inside a window earns a weight falling along a scaled tanh from A_tp to A_fp; each prediction outside
every window costs A_fp; a window without one costs A_fn; score = 100 (S - S_null) / (S_perfect - S_null).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["NAB_PROFILES", "PointCounts", "nab_raw", "nab_scores", "point_counts"]

Ints = npt.NDArray[np.int8] | npt.NDArray[np.bool_]
NAB_PROFILES = {"standard": (1.0, -0.11, -1.0), "lowFP": (1.0, -0.22, -1.0), "lowFN": (1.0, -0.11, -2.0)}


@dataclass
class PointCounts:
    """Pooled confusion counts."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, pred: Ints, label: Ints) -> None:
        p, y = np.asarray(pred, dtype=bool), np.asarray(label, dtype=bool)
        self.tp += int((p & y).sum())
        self.fp += int((p & ~y).sum())
        self.fn += int((~p & y).sum())
        self.tn += int((~p & ~y).sum())

    @property
    def f1(self) -> float:
        d = self.tp + (self.fp + self.fn) / 2
        return self.tp / d if d else 0.0

    @property
    def far(self) -> float:
        d = self.fp + self.tn
        return 100.0 * self.fp / d if d else 0.0

    @property
    def mar(self) -> float:
        d = self.fn + self.tp
        return 100.0 * self.fn / d if d else 0.0


def point_counts(pairs: Iterable[tuple[Ints, Ints]]) -> PointCounts:
    """Counts summed over (prediction, label) pairs."""
    c = PointCounts()
    for p, y in pairs:
        c.add(p, y)
    return c


def _windows(cps: list[int], window: int, n: int) -> list[tuple[int, int]]:
    out = [(t, min(t + window, n - 1)) for t in cps]
    for i in range(len(out) - 1):
        if out[i][1] >= out[i + 1][0]:
            out[i] = (out[i][0], out[i + 1][0] - 1)
    return out


def nab_raw(pred: Ints, changepoints: Ints, window: int, profile: tuple[float, float, float]) -> tuple[float, int]:
    """(S, number of windows) of one file for one (A_tp, A_fp, A_fn) profile."""
    a_tp, a_fp, a_fn = profile
    p = np.asarray(pred, dtype=np.int8)
    pcp = np.abs(np.diff(p, prepend=0)).astype(bool)
    pcp[0] = bool(p[0])
    pred_idx = np.flatnonzero(pcp).tolist()
    wins = _windows(np.flatnonzero(np.asarray(changepoints, dtype=bool)).tolist(), window, len(p))
    s, used = 0.0, set()
    for lo, hi in wins:
        inside = [i for i in pred_idx if lo <= i <= hi]
        used.update(inside)
        if not inside:
            s += a_fn
            continue
        pos = (inside[0] - lo) / max(hi - lo, 1)
        x = -math.pi / 2 + pos * math.pi
        s += (a_tp - a_fp) / 2 * (1 - math.tanh(x) / math.tanh(math.pi / 2)) + a_fp
    s += a_fp * sum(1 for i in pred_idx if i not in used)
    return s, len(wins)


def nab_scores(pairs: Iterable[tuple[Ints, Ints]], window: int = 60) -> dict[str, float]:
    """Pooled NAB scores per profile over (prediction, changepoint labels) pairs of every file."""
    items = list(pairs)
    out = {}
    for name, prof in NAB_PROFILES.items():
        s_total, n_total = 0.0, 0
        for p, c in items:
            s, n = nab_raw(p, c, window, prof)
            s_total += s
            n_total += n
        null, perfect = n_total * prof[2], n_total * prof[0]
        out[name] = 100.0 * (s_total - null) / (perfect - null) if perfect != null else 0.0
    return out
