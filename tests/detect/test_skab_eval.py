"""``edgewatch model eval skab`` on two real SKAB valve1 files from ../shared, through ONNX Runtime."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from edgewatch.detect.cli import main
from edgewatch.detect.data import read_recording
from tests.support.shared import require_shared

FILES = ("0.csv", "1.csv")  # the first two in numeric order, not picked for their results


@pytest.fixture(scope="module")
def skab_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = require_shared("datasets", "skab", "valve1")
    root = tmp_path_factory.mktemp("skab")
    (root / "valve1").mkdir()
    for name in FILES:
        shutil.copy(src / name, root / "valve1" / name)
    return root


def test_eval_skab_writes_one_prediction_per_test_row_and_prints_metrics_over_a_floor(
    skab_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pred.csv"
    assert main(["eval", "skab", "--data", str(skab_slice), "--predictions", str(out)]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["file", "row", "score", "threshold", "anomaly"]
    for name in FILES:
        n = read_recording(skab_slice / "valve1" / name).values.shape[0]
        mine = [r for r in rows if r["file"] == f"valve1/{name}"]
        assert [int(r["row"]) for r in mine] == list(range(400, n))
        assert {r["anomaly"] for r in mine} <= {"0", "1"}
        assert len({r["threshold"] for r in mine}) == 1
    text = capsys.readouterr().out
    f1 = float(text.split("F1 ")[1].split()[0])
    far = float(text.split("FAR ")[1].split()[0])
    # Flagging every row scores F1 ~0.70 at FAR 100 % here; the default detector measured F1 0.785 at FAR 5.95 %
    # on these two files (file 0 has the weakest flow drop of valve1). The floor keeps real detection (FAR within
    # the 12 % goal) with margin for float differences between platforms.
    assert f1 >= 0.75
    assert far <= 12.0
    assert "NAB standard" in text
