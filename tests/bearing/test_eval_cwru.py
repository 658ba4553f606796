"""``edgewatch model eval cwru`` on the CWRU recordings in ../shared: the CSV, the report and the goals it meets."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from edgewatch.bearing.cli import main
from edgewatch.bearing.evaluate import FAULT_SHARE
from tests.support.shared import require_shared

pytestmark = pytest.mark.dataset

DE_6205 = "9,0.3126,1.537,0"
ROWS = [
    # file, sampleRateHz, rpm (empty: the file's own *RPM), channel
    ("normal_0_97.mat", 48000, 1796, "DE"),
    ("normal_0_97.mat", 48000, "", "FE_time"),
    ("12k_Drive_End_IR007_0_105.mat", 12000, 1797, "DE"),
    ("12k_Drive_End_B007_0_118.mat", 12000, 1796, "DE"),
    ("12k_Drive_End_OR007at6_0_130.mat", 12000, 1796, "DE"),
    ("48k_Drive_End_IR007_0_109.mat", 48000, 1796, "DE"),
    ("48k_Drive_End_B007_0_122.mat", 48000, 1796, "DE"),
    ("48k_Drive_End_OR007at6_0_135.mat", 48000, 1796, "DE"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], dict[str, Any]]:
    data = require_shared("datasets", "cwru")
    tmp = tmp_path_factory.mktemp("cwru")
    manifest = tmp / "manifest.csv"
    lines = ["file,sampleRateHz,rpm,channel,balls,ballDiameterIn,pitchDiameterIn,contactAngleDeg"]
    lines += [f"{f},{fs},{rpm},{ch},{DE_6205}" for f, fs, rpm, ch in ROWS]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, report = tmp / "out.csv", tmp / "report.json"
    argv = ["eval", "cwru", "--data", str(data), "--manifest", str(manifest), "--predictions", str(out)]
    assert main([*argv, "--report", str(report)]) == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return rows, json.loads(report.read_text(encoding="utf-8"))


def test_the_predictions_csv_has_file_window_verdict_for_every_window(run: tuple[list[dict[str, str]], Any]) -> None:
    rows, report = run
    assert rows and list(rows[0]) == ["file", "window", "verdict"]
    assert {r["verdict"] for r in rows} <= {"normal", "inner", "outer", "ball"}
    assert len(rows) == sum(r["windows"] for r in report["recordings"])
    first = [int(r["window"]) for r in rows if r["file"] == "12k_Drive_End_IR007_0_105.mat"]
    assert first == list(range(len(first))) and len(first) >= 20  # 10 s at 12 kHz, 8192-sample windows, hop 4096


def test_inner_and_outer_race_recordings_are_found_and_typed_at_12_and_48_khz(run: tuple[Any, Any]) -> None:
    _, report = run
    by_file = {r["file"]: r for r in report["recordings"]}
    for rec in by_file.values():
        if rec["label"] in ("inner", "outer"):
            assert rec["verdict"] == rec["label"], rec
            assert rec["shares"][rec["label"]] >= 0.9, rec  # window by window, too
            assert rec["shares"][rec["label"]] >= FAULT_SHARE


def test_healthy_windows_flagged_stay_within_five_percent_on_both_channels(run: tuple[Any, Any]) -> None:
    _, report = run
    g = report["goals"]
    assert g["healthyWindows"] == 26  # normal_0_97 (48 kHz, 5.08 s): 13 windows per channel
    assert g["healthyFlagged"] / g["healthyWindows"] <= 0.05
    assert g["met"]["healthy windows flagged <= 5%"] is True
    assert [r["verdict"] for r in report["recordings"] if r["label"] == "normal"] == ["normal", "normal"]
    assert report["recordings"][1]["rpm"] == 1796.0  # read from X097RPM when the manifest leaves rpm empty


def test_the_report_counts_the_fault_recordings_and_states_every_goal(run: tuple[Any, Any]) -> None:
    _, report = run
    g = report["goals"]
    assert g["faultRecordings"] == 6
    assert g["detected"] == 6 and g["typeRight"] == 6  # 118 (12 kHz ball) through the overall-level rule
    assert all(g["met"].values()), g["met"]
    assert set(g["met"]) == {
        "every fault recording detected",
        "fault type right >= 90%",
        "healthy windows flagged <= 5%",
    }
