"""SKAB replay (real 1 Hz data with gaps) through the slow-signal windows: gaps flagged, duplicates and
out-of-order rows handled as documented, never a crash."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pytest

from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.store import ConfigStore
from tests.features.datasets import dataset_path

pytestmark = pytest.mark.dataset

SEC = 1_000_000_000


def _rows(name: str) -> tuple[list[str], list[tuple[int, list[float]]]]:
    with dataset_path("skab", "valve1", name).open(newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        sensors = header[1:9]  # the eight sensors; labels are not signals
        rows = [
            (
                int(datetime.fromisoformat(r[0]).replace(tzinfo=UTC).timestamp()) * SEC,
                [float(v) for v in r[1:9]],
            )
            for r in reader
        ]
    return sensors, rows


def _replay(sensors: list[str], rows: list[tuple[int, list[float]]]) -> tuple[list, FeaturePipeline]:
    p = FeaturePipeline(ConfigStore())  # the defaults: 5 s tumbling time windows, 1 s lateness, 5 s max gap
    out = []
    for origin, values in rows:
        for name, v in zip(sensors, values, strict=True):
            out += p.scalar("skab", "valve", name, origin, v)
    return out, p


def test_skab_replay_with_a_76_s_gap_flags_it_and_never_spans_it() -> None:
    sensors, rows = _rows("2.csv")
    times = np.array([t for t, _ in rows])
    gap_at = int(np.argmax(np.diff(times)))
    assert (times[gap_at + 1] - times[gap_at]) // SEC == 76
    out, p = _replay(sensors, rows)
    assert p.stats["gap"] >= 1 and p.stats["duplicate"] == 0
    assert len(out) > 150 and all(fv.resources == sorted(sensors) for fv in out)
    for fv in out:
        assert fv.window_end - fv.window_start == 5 * SEC and min(fv.sample_counts) >= 1
        assert not (fv.window_start <= times[gap_at] and times[gap_at + 1] < fv.window_end)
        assert np.isfinite(fv.values).all()
    flagged = [fv for fv in out if "gap" in fv.flags]
    assert any(fv.window_start > times[gap_at] for fv in flagged)  # the first window after the gap
    assert all(fv.as_dict()["Pressure.zscore"] == 0.0 for fv in flagged)  # history restarts after a gap
    used = sum(fv.sample_count for fv in out)
    assert used <= len(rows) * len(sensors)


def test_skab_replay_with_injected_duplicates_and_reordering_gives_the_clean_result() -> None:
    sensors, rows = _rows("0.csv")
    rows = rows[:300]
    clean, _ = _replay(sensors, rows)
    messy = list(rows)
    rng = np.random.default_rng(5)
    for i in rng.choice(np.arange(1, len(messy) - 1), 20, replace=False):
        messy[i], messy[i + 1] = messy[i + 1], messy[i]  # neighbours swapped: 1 s out of order (< 1 s lateness)
    messy += [messy[i] for i in range(0, 300, 17)]  # re-sent rows, late and duplicated
    out, p = _replay(sensors, messy)
    assert p.stats["reordered"] > 0 and p.stats["duplicate"] + p.stats["late"] == 18 * len(sensors)
    assert len(out) == len(clean)
    for a, b in zip(out, clean, strict=True):
        assert a.window_start == b.window_start and a.sample_counts == b.sample_counts
        np.testing.assert_allclose(a.values, b.values, rtol=1e-12, atol=1e-12)
