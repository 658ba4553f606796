"""Reading SKAB-format recordings and checking training data before anything is fitted.

A SKAB-format file is ``;``-separated with a header: a ``datetime`` column, sensor columns, and optionally the
label columns ``anomaly`` and ``changepoint``. Labels are carried along for scoring only; nothing that fits,
calibrates or chooses a model reads them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edgewatch.detect.errors import TrainingDataError

__all__ = ["LABEL_COLUMNS", "Recording", "check_training", "find_recordings", "read_recording"]

F64 = npt.NDArray[np.float64]
LABEL_COLUMNS = ("anomaly", "changepoint")
_TIME_COLUMNS = ("datetime", "timestamp", "time")


@dataclass(frozen=True)
class Recording:
    """One recording: sensor values ``[T, F]`` in column order, and its labels when the file has them."""

    path: Path
    columns: list[str]
    values: F64
    anomaly: npt.NDArray[np.int8] | None = None
    changepoint: npt.NDArray[np.int8] | None = None


def read_recording(path: Path) -> Recording:
    """Read one SKAB-format CSV.

    Raises:
        TrainingDataError: no sensor columns, or a cell that is not a number (naming the column and row).
    """
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))
    if not rows:
        raise TrainingDataError(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    keep = [i for i, h in enumerate(header) if h.lower() not in _TIME_COLUMNS and h not in LABEL_COLUMNS]
    if not keep:
        raise TrainingDataError(f"{path}: no sensor columns in header {header}")
    labels = {name: header.index(name) for name in LABEL_COLUMNS if name in header}
    body = [r for r in rows[1:] if r]
    values = np.empty((len(body), len(keep)), dtype=np.float64)
    for r, row in enumerate(body):
        for j, i in enumerate(keep):
            values[r, j] = _number(row, i, path, header[i], r)
    label_arrays = {
        name: np.array([_number(row, i, path, name, r) for r, row in enumerate(body)], dtype=np.int8)
        for name, i in labels.items()
    }
    return Recording(
        path, [header[i] for i in keep], values, label_arrays.get("anomaly"), label_arrays.get("changepoint")
    )


def _number(row: Sequence[str], i: int, path: Path, column: str, r: int) -> float:
    try:
        return float(row[i]) if row[i].strip() else float("nan")
    except (ValueError, IndexError):
        raise TrainingDataError(f"{path}: column {column!r}, data row {r}: not a number", column=column) from None


def find_recordings(root: Path) -> list[Path]:
    """Every ``*.csv`` under ``root`` at any depth, sorted by relative path with numbers in numeric order."""

    def key(p: Path) -> list[tuple[int, str]]:
        parts = p.relative_to(root).with_suffix("").parts
        return [(int(s), "") if s.isdigit() else (1 << 62, s) for s in parts]

    return sorted((p for p in root.rglob("*.csv") if p.is_file()), key=key)


def check_training(values: F64, columns: Sequence[str], expected: Sequence[str] | None = None) -> None:
    """Refuse training data a detector cannot learn from, naming the column.

    Args:
        values: ``[T, F]`` training rows.
        columns: their column names.
        expected: the columns the model must have (a retrain, a fixed feature list): each must be present.

    Raises:
        TrainingDataError: a missing column, NaN or infinity in a column, a constant column, or too few rows.
    """
    if expected is not None:
        missing = [c for c in expected if c not in columns]
        if missing:
            raise TrainingDataError(f"training data lacks column {missing[0]!r}", column=missing[0])
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise TrainingDataError(f"{values.shape} values for {len(columns)} columns")
    if values.shape[0] < 2:
        raise TrainingDataError(f"training data needs at least 2 rows, got {values.shape[0]}")
    for j, name in enumerate(columns):
        col = values[:, j]
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            raise TrainingDataError(
                f"column {name!r} has {bad.size} NaN or infinite values (first at row {int(bad[0])})", column=name
            )
        if float(np.ptp(col)) == 0.0:
            raise TrainingDataError(f"column {name!r} is constant ({col[0]!r}) in the training data", column=name)
