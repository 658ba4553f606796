"""SKAB evaluation through the served path: per file, train on rows 0..399, score rows 400.. with ONNX Runtime.

Every row of a file is pushed through ``runtime.WindowBuffer`` (the inference service's windowing), the
windows ending at rows >= ``train_rows`` are scored by the ONNX model in one batch, and the alarm is the
threshold plus ``runtime.Persistence`` from meta.json. Labels are read only to count errors at the end.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edgewatch.detect.data import find_recordings, read_recording
from edgewatch.detect.detectors import DEFAULT_WINDOW
from edgewatch.detect.metrics import PointCounts, nab_scores
from edgewatch.detect.model import TrainedModel, ort_scores, session, train_model
from edgewatch.detect.runtime import WindowBuffer, over_threshold, persist, sliding_windows

__all__ = ["TRAIN_ROWS", "SkabResult", "evaluate_skab", "score_recording"]

F64 = npt.NDArray[np.float64]
TRAIN_ROWS = 400


@dataclass
class SkabResult:
    """Pooled figures over the files that have labels."""

    files: int = 0
    labelled: int = 0
    counts: PointCounts = field(default_factory=PointCounts)
    nab: dict[str, float] = field(default_factory=dict)
    fp32_size: int = 0
    int8_size: int = 0
    scored: int = 0  # rows scored in every file, labelled or not
    alarms: int = 0  # of which in alarm

    def lines(self) -> list[str]:
        c = self.counts
        share = 100.0 * self.alarms / self.scored if self.scored else 0.0
        out = [
            f"files {self.files} (labelled {self.labelled}), test rows {self.scored}, "
            f"in alarm {self.alarms} ({share:.2f} %)"
        ]
        if self.labelled:
            out.append(
                f"F1 {c.f1:.4f}  FAR {c.far:.2f} %  MAR {c.mar:.2f} %  (TP {c.tp} FP {c.fp} FN {c.fn} TN {c.tn})"
            )
            out.append("NAB " + "  ".join(f"{k} {v:.2f}" for k, v in self.nab.items()))
        if self.fp32_size:
            out.append(
                f"model size: fp32 {self.fp32_size} B" + (f", int8 {self.int8_size} B" if self.int8_size else "")
            )
        return out


def score_recording(model: TrainedModel, values: F64, start: int) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Scores and alarms for rows ``start``.. of ``values``, windows from ``WindowBuffer`` (rows before a full
    window score NaN and never alarm)."""
    buf = WindowBuffer(model.window, values.shape[1])
    windows, rows = [], []
    for t, row in enumerate(values):
        w = buf.push(row)
        if t >= start and w is not None:
            windows.append(w)
            rows.append(t - start)
    scores = np.full(values.shape[0] - start, np.nan)
    if windows:
        scores[rows] = ort_scores(session(model.onnx), np.stack(windows))
    raise_k, clear_m = model.persistence
    return scores, persist(over_threshold(scores, model.threshold), raise_k, clear_m)


def evaluate_skab(
    root: Path,
    predictions: Path,
    *,
    algorithm: str,
    int8: bool = False,
    threshold_method: str = "quantile",
    window: int = DEFAULT_WINDOW,
    factor: float | None = None,
    calibration: str = "in-sample",
    train_rows: int = TRAIN_ROWS,
) -> SkabResult:
    """Evaluate every SKAB-format CSV under ``root``; write ``file,row,score,threshold,anomaly`` rows."""
    result = SkabResult()
    point_pairs: list[tuple[Any, Any]] = []
    nab_pairs: list[tuple[Any, Any]] = []
    predictions.parent.mkdir(parents=True, exist_ok=True)
    with open(predictions, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["file", "row", "score", "threshold", "anomaly"])
        for path in find_recordings(root):
            rec = read_recording(path)
            if rec.values.shape[0] <= train_rows:
                continue
            model = train_model(
                rec.values[:train_rows],
                rec.columns,
                algorithm=algorithm,
                threshold_method=threshold_method,
                window=window,
                factor=factor,
                calibration=calibration,
                name=path.stem,
            )
            result.fp32_size = max(result.fp32_size, len(model.onnx))
            if int8:
                from edgewatch.detect.quantize import quantize_model

                model = quantize_model(model, sliding_windows(rec.values[:train_rows], model.window))
                result.int8_size = max(result.int8_size, len(model.onnx))
            scores, alarm = score_recording(model, rec.values, train_rows)
            rel = path.relative_to(root).as_posix()
            thr = model.threshold
            for i, (s, a) in enumerate(zip(scores.tolist(), alarm.tolist(), strict=True)):
                out.writerow([rel, train_rows + i, f"{s:.6g}", f"{thr:.6g}", int(a)])
            result.files += 1
            result.scored += int(alarm.size)
            result.alarms += int(alarm.sum())
            if rec.anomaly is not None:
                result.labelled += 1
                point_pairs.append((alarm, rec.anomaly[train_rows:]))
            if rec.changepoint is not None:
                nab_pairs.append((alarm, rec.changepoint[train_rows:]))
    for p, y in point_pairs:
        result.counts.add(p, y)
    if nab_pairs:
        result.nab = nab_scores(nab_pairs)
    return result
