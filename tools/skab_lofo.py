"""Leave-files-out check of filtered-z's two settings (window, threshold factor) on a SKAB folder.

Runs ``eval skab`` for every (window, factor) of a small grid, then two folds: files with an even position in
the sorted list choose the setting (highest pooled F1 with FAR <= 12 %), the odd ones are scored with it, and
the other way round. Labels are used only to choose between settings and to score, never by the detector.

    nice -n 10 .venv/bin/python tools/skab_lofo.py ../shared/datasets/skab/valve1
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgewatch.detect.data import find_recordings, read_recording
from edgewatch.detect.evaluate import TRAIN_ROWS, evaluate_skab
from edgewatch.detect.metrics import PointCounts, point_counts

WINDOWS = (5, 10, 20)
FACTORS = (1.0, 1.25, 1.5)
FAR_GOAL = 12.0
Grid = dict[tuple[int, float], dict[str, np.ndarray]]
Labels = dict[str, np.ndarray | None]


def _predictions(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, list[int]] = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["file"], []).append(int(row["anomaly"]))
    return {k: np.array(v, dtype=bool) for k, v in out.items()}


def main(root: Path) -> None:
    labels = {p.relative_to(root).as_posix(): read_recording(p).anomaly for p in find_recordings(root)}
    names = [n for n, y in labels.items() if y is not None]
    grid: Grid = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in WINDOWS:
            for fac in FACTORS:
                out = Path(tmp) / f"{w}_{fac}.csv"
                evaluate_skab(root, out, algorithm="filtered-z", window=w, factor=fac)
                grid[(w, fac)] = _predictions(out)

    folds = (names[0::2], names[1::2])
    pairs = []
    for i, (choose, test) in enumerate((folds, folds[::-1])):
        best = _best(grid, labels, choose)
        c = _counts(grid, labels, best, test)
        print(
            f"fold {i}: chose window {best[0]} factor {best[1]} on {len(choose)} files; "
            f"held out {len(test)} files: F1 {c.f1:.4f} FAR {c.far:.2f} % MAR {c.mar:.2f} %"
        )
        pairs += [(grid[best][n], labels[n][TRAIN_ROWS:]) for n in test]
    c = point_counts(pairs)
    print(f"both held-out halves pooled: F1 {c.f1:.4f}  FAR {c.far:.2f} %  MAR {c.mar:.2f} %")


def _counts(grid: Grid, labels: Labels, setting: tuple[int, float], files: list[str]) -> PointCounts:
    return point_counts((grid[setting][n], labels[n][TRAIN_ROWS:]) for n in files)  # type: ignore[index]


def _best(grid: Grid, labels: Labels, files: list[str]) -> tuple[int, float]:
    """The setting with the highest pooled F1 on ``files`` among those with FAR <= 12 % there."""
    ok = [s for s in grid if _counts(grid, labels, s, files).far <= FAR_GOAL] or list(grid)
    return max(ok, key=lambda s: _counts(grid, labels, s, files).f1)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
