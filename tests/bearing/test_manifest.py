"""A bad manifest is refused before any recording is read, with the line and the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewatch.bearing.cli import main
from edgewatch.bearing.manifest import ManifestError, label_from_name, read_manifest

HEADER = "file,sampleRateHz,rpm,channel,balls,ballDiameterIn,pitchDiameterIn,contactAngleDeg"
GOOD = "a.mat,12000,1797,DE,9,0.3126,1.537,0"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.mat").write_bytes(b"")  # never read: the manifest is checked first
    return folder


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_good_row_becomes_a_recording_with_the_channel_suffix(tmp_path: Path, data: Path) -> None:
    (rec,) = read_manifest(write(tmp_path, HEADER, GOOD), data)
    assert (rec.channel, rec.sample_rate_hz, rec.rpm, rec.geometry.balls) == ("DE_time", 12000.0, 1797.0, 9)


@pytest.mark.parametrize(
    ("lines", "field", "line"),
    [
        ((HEADER.replace(",rpm", ""), "a.mat,12000,DE,9,0.3126,1.537,0"), "rpm", 1),
        ((HEADER, GOOD.replace("a.mat", "b.mat")), "file", 2),
        ((HEADER, GOOD.replace("a.mat", "../a.mat")), "file", 2),
        ((HEADER, GOOD, GOOD.replace("12000", "12k")), "sampleRateHz", 3),
        ((HEADER, GOOD.replace("1797", "-5")), "rpm", 2),
        ((HEADER, GOOD.replace(",DE,", ",XX,")), "channel", 2),
        ((HEADER, GOOD.replace(",9,", ",9.5,")), "balls", 2),
        ((HEADER, GOOD.replace("0.3126", "nan")), "ballDiameterIn", 2),
        ((HEADER, GOOD.replace("1.537", "0.2")), "ballDiameterIn", 2),
        ((HEADER, GOOD[:-1] + "95"), "contactAngleDeg", 2),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_field(
    tmp_path: Path, data: Path, lines: tuple[str, ...], field: str, line: int
) -> None:
    path = write(tmp_path, *lines)
    with pytest.raises(ManifestError) as err:
        read_manifest(path, data)
    assert (err.value.field, err.value.line) == (field, line)
    assert f":{line}: {field}:" in str(err.value)


def test_the_cli_exits_2_with_the_field_in_the_message_and_writes_nothing(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, HEADER, GOOD.replace("1797", "fast"))
    out = tmp_path / "out.csv"
    assert main(["eval", "cwru", "--data", str(data), "--manifest", str(path), "--predictions", str(out)]) == 2
    assert "rpm: not a number: 'fast'" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("normal_0_97.mat", "normal"),
        ("12k_Drive_End_IR007_0_105.mat", "inner"),
        ("48k_Drive_End_B021_2_224.mat", "ball"),
        ("12k_Fan_End_OR014at3_1_281.mat", "outer"),
        ("recording.mat", None),
    ],
)
def test_the_label_comes_from_a_cwru_file_name(name: str, label: str | None) -> None:
    assert label_from_name(name) == label


def test_an_unreadable_or_empty_manifest_is_refused(tmp_path: Path, data: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\xff\xfe\x00\x81 not text")
    with pytest.raises(ManifestError) as err:
        read_manifest(garbage, data)
    assert err.value.field == "manifest"
    with pytest.raises(ManifestError, match="no rows"):
        read_manifest(write(tmp_path, HEADER), data)


def test_a_file_that_is_not_a_mat_recording_exits_1_naming_it(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data / "a.mat").write_bytes(b"MATLAB 5.0 MAT-file, but truncated")
    out = tmp_path / "out.csv"
    assert main(["--data", str(data), "--manifest", str(write(tmp_path, HEADER, GOOD)), "--predictions", str(out)]) == 1
    err = capsys.readouterr().err
    assert "a.mat" in err and not out.exists()
