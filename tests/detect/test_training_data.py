"""Training data a detector cannot learn from is refused with an error naming the column, in the API and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgewatch.detect.cli import main
from edgewatch.detect.data import check_training, find_recordings, read_recording
from edgewatch.detect.errors import TrainingDataError
from edgewatch.detect.model import train_model

COLUMNS = ["Current", "Pressure", "Volume Flow RateRMS"]


def _rows(n: int = 60) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, len(COLUMNS))) + np.array([1.0, 0.1, 32.0])


def _write_csv(path: Path, columns: list[str], rows: np.ndarray, labels: bool = False) -> None:
    head = ["datetime", *columns] + (["anomaly", "changepoint"] if labels else [])
    lines = [";".join(head)]
    for i, r in enumerate(rows):
        cells = [f"2020-03-09 10:{i // 60:02d}:{i % 60:02d}", *("" if np.isnan(v) else repr(float(v)) for v in r)]
        lines.append(";".join(cells + (["0.0", "0.0"] if labels else [])))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("column", "mutate", "message"),
    [
        ("Pressure", lambda x: x.__setitem__((5, 1), np.nan), "column 'Pressure' has 1 NaN"),
        ("Current", lambda x: x.__setitem__((slice(None), 0), 0.97), "column 'Current' is constant"),
        ("Volume Flow RateRMS", lambda x: x.__setitem__((7, 2), np.inf), "column 'Volume Flow RateRMS' has 1 NaN"),
    ],
)
def test_training_refuses_nan_infinite_and_constant_columns_naming_the_column(column, mutate, message) -> None:
    x = _rows()
    mutate(x)
    with pytest.raises(TrainingDataError, match=message) as err:
        train_model(x, COLUMNS, algorithm="filtered-z")
    assert err.value.column == column


def test_training_refuses_a_missing_column_naming_it() -> None:
    with pytest.raises(TrainingDataError, match="lacks column 'Temperature'") as err:
        check_training(_rows(), COLUMNS, expected=[*COLUMNS, "Temperature"])
    assert err.value.column == "Temperature"


def test_cli_train_refuses_a_constant_column_with_exit_2_and_the_column_in_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = _rows()
    x[:, 1] = 0.5
    _write_csv(tmp_path / "r.csv", COLUMNS, x)
    assert main(["train", "--data", str(tmp_path / "r.csv"), "--out", str(tmp_path / "m")]) == 2
    assert "column 'Pressure' is constant" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_cli_quantize_refuses_calibration_data_that_lacks_a_model_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_csv(tmp_path / "train.csv", COLUMNS, _rows())
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path / "m")]) == 0
    _write_csv(tmp_path / "other.csv", COLUMNS[:2], _rows()[:, :2])
    args = [
        "quantize",
        "--model",
        str(tmp_path / "m"),
        "--data",
        str(tmp_path / "other.csv"),
        "--out",
        str(tmp_path / "q"),
    ]
    assert main(args) == 2
    assert "lacks column 'Volume Flow RateRMS'" in capsys.readouterr().err


def test_cli_train_then_quantize_writes_model_directories_with_meta(tmp_path: Path) -> None:
    _write_csv(tmp_path / "train.csv", COLUMNS, _rows(80))
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path / "m"), "--rows", "70"]) == 0
    args = [
        "quantize",
        "--model",
        str(tmp_path / "m"),
        "--data",
        str(tmp_path / "train.csv"),
        "--out",
        str(tmp_path / "q"),
    ]
    assert main(args) == 0
    import json

    fp32 = json.loads((tmp_path / "m" / "meta.json").read_text())
    int8 = json.loads((tmp_path / "q" / "meta.json").read_text())
    assert fp32["calibration"]["rows"] == 70 and fp32["quantized"] is False
    assert int8["quantized"] is True and int8["inputNames"] == COLUMNS
    assert (tmp_path / "q" / "model.onnx").stat().st_size > 0


def test_read_recording_reads_labels_and_names_a_bad_cell(tmp_path: Path) -> None:
    _write_csv(tmp_path / "a.csv", COLUMNS, _rows(5), labels=True)
    rec = read_recording(tmp_path / "a.csv")
    assert rec.columns == COLUMNS and rec.values.shape == (5, 3)
    assert rec.anomaly is not None and rec.anomaly.tolist() == [0] * 5
    text = (tmp_path / "a.csv").read_text().replace("0.0;0.0\n", "oops;0.0\n", 1)
    (tmp_path / "a.csv").write_text(text)
    with pytest.raises(TrainingDataError, match="column 'anomaly', data row 0"):
        read_recording(tmp_path / "a.csv")


def test_find_recordings_walks_any_depth_in_numeric_order(tmp_path: Path) -> None:
    for rel in ("valve1/10.csv", "valve1/2.csv", "other/deep/1.csv", "anomaly-free.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("datetime;a\n")
    got = [p.relative_to(tmp_path).as_posix() for p in find_recordings(tmp_path)]
    assert got == ["anomaly-free.csv", "other/deep/1.csv", "valve1/2.csv", "valve1/10.csv"]
