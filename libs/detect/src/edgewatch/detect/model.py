"""A trained detector as the inference service serves it: ``model.onnx`` + ``meta.json`` (common_contracts.md).

Training = check the rows, fit, export, run the ONNX model on the training windows through ONNX Runtime, and
calibrate the threshold on those scores (so the threshold belongs to the exact graph that will be served).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edgewatch.detect.calibrate import DEFAULT_FACTOR, calibrate
from edgewatch.detect.data import check_training
from edgewatch.detect.detectors import DEFAULT_WINDOW, Detector, fit_detector
from edgewatch.detect.errors import ModelFormatError
from edgewatch.detect.graph import INPUT, OUTPUT
from edgewatch.detect.runtime import sliding_windows

__all__ = [
    "DEFAULT_PERSISTENCE",
    "TrainedModel",
    "load_model",
    "ort_scores",
    "save_model",
    "session",
    "train_model",
]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
DEFAULT_PERSISTENCE = {"raise": 3, "clear": 3}
CV_FOLDS = 5  # 3 consecutive samples raise or clear: one noisy sample does neither


class TrainedModel:
    """The ONNX bytes and the meta.json document (camelCase keys)."""

    def __init__(self, onnx_bytes: bytes, meta: dict[str, Any], detector: Detector | None = None) -> None:
        self.onnx = onnx_bytes
        self.meta = meta
        self.detector = detector  # the fitted numpy reference when trained in this process (never serialised)

    @property
    def window(self) -> int:
        return int(self.meta.get("window", 1))

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    @property
    def persistence(self) -> tuple[int, int]:
        p = self.meta.get("persistence") or {"raise": 1, "clear": 1}
        return int(p["raise"]), int(p["clear"])


def session(onnx_bytes: bytes) -> Any:
    """An ONNX Runtime CPU session with one thread and no spinning (as the inference service runs it)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(onnx_bytes, so, providers=["CPUExecutionProvider"])


def ort_scores(sess: Any, windows: F32, batch: int = 4096) -> F64:
    """Scores of ``[N, W, F]`` windows through ONNX Runtime."""
    out = [sess.run([OUTPUT], {INPUT: windows[i : i + batch]})[0] for i in range(0, windows.shape[0], batch)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def train_model(
    train: F64,
    columns: Sequence[str],
    *,
    algorithm: str,
    window: int = DEFAULT_WINDOW,
    threshold_method: str = "quantile",
    factor: float | None = None,
    calibration: str = "in-sample",
    name: str = "detector",
    version: str = "1",
    persistence: dict[str, int] | None = None,
) -> TrainedModel:
    """Fit ``algorithm`` on normal rows and calibrate its threshold on the served graph's scores.

    ``calibration``: ``in-sample`` scores the training windows with the model fitted on them (factor default
    1.25, a margin for that optimism); ``cv`` scores each of CV_FOLDS contiguous blocks of the training rows
    with a model fitted on the other blocks (factor default 1.0: those windows were unseen).

    Raises:
        TrainingDataError: NaN, infinite or constant columns (naming the column).
    """
    x = np.asarray(train, dtype=np.float64)
    check_training(x, columns)
    det = fit_detector(algorithm, x, window)
    data = det.to_onnx()
    windows = sliding_windows(x, det.window)
    scores = ort_scores(session(data), windows)
    if calibration == "cv":
        cal_scores = _cv_scores(x, columns, algorithm, det.window)
        fac = 1.0 if factor is None else factor
    elif calibration == "in-sample":
        cal_scores, fac = scores, DEFAULT_FACTOR if factor is None else factor
    else:
        raise ValueError(f"unknown calibration {calibration!r} (in-sample, cv)")
    threshold, summary = calibrate(cal_scores, threshold_method, factor=fac)
    summary["scores"] = calibration
    golden = windows[-1:]
    meta = {
        "name": name,
        "version": version,
        "inputNames": list(columns),
        "threshold": threshold,
        "golden": {
            "input": [float(v) for v in golden.reshape(-1)],
            "expectedScore": float(scores[-1]),
            "tolerance": 1e-3,
        },
        "window": det.window,
        "algorithm": det.algorithm,
        "thresholdMethod": threshold_method,
        # calibration: the score summary, plus what was fitted (slow channels, components, layers); only the
        # contract's top-level fields, so the service's strict metadata model accepts the file
        "calibration": summary | {"rows": int(x.shape[0]), "detector": det.info},
        "persistence": dict(persistence or DEFAULT_PERSISTENCE),
        "quantized": False,
        "created": time.time_ns(),
    }
    return TrainedModel(data, meta, det)


def _cv_scores(x: F64, columns: Sequence[str], algorithm: str, window: int) -> F64:
    """Out-of-sample scores of every training window, through ONNX Runtime: the windows ending in each of
    CV_FOLDS contiguous blocks are scored by a model fitted on the rows outside that block."""
    n = x.shape[0]
    edges = np.linspace(0, n, CV_FOLDS + 1).astype(int)
    ends = np.arange(window - 1, n)
    windows = sliding_windows(x, window)
    out = []
    for lo, hi in itertools.pairwise(edges.tolist()):
        rest = np.concatenate([x[:lo], x[hi:]])
        pick = (ends >= lo) & (ends < hi)
        if not pick.any() or rest.shape[0] <= window + 1:
            continue
        check_training(rest, columns)
        fold = fit_detector(algorithm, rest, window)
        out.append(ort_scores(session(fold.to_onnx()), windows[pick]))
    return np.concatenate(out)


def save_model(model: TrainedModel, directory: Path) -> None:
    """Write ``model.onnx`` and ``meta.json`` into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(model.onnx)
    (directory / "meta.json").write_text(json.dumps(model.meta, indent=2) + "\n", encoding="utf-8")


def load_model(directory: Path) -> TrainedModel:
    """Read a model directory.

    Raises:
        ModelFormatError: a file is missing or meta.json lacks a required field.
    """
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        data = (directory / "model.onnx").read_bytes()
    except (OSError, ValueError) as e:
        raise ModelFormatError(f"{directory}: not a model directory ({e})") from e
    for key in ("inputNames", "threshold", "algorithm"):
        if key not in meta:
            raise ModelFormatError(f"{directory}/meta.json lacks {key!r}")
    return TrainedModel(data, meta)
