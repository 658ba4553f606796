"""The eval manifest: one CSV row per recording, with the physics the diagnosis needs.

Columns (header row required, order free, extra columns ignored except ``label``):
``file`` (path relative to the data folder), ``sampleRateHz``, ``rpm`` (empty: the recording's own ``*RPM``
variable), ``channel`` (``DE``, ``FE``, ``BA`` or the full suffix ``DE_time``...), ``balls``,
``ballDiameterIn``, ``pitchDiameterIn``, ``contactAngleDeg``; optional ``label`` (normal|inner|outer|ball; else
read from a CWRU file name). Every error names the line and the field.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from edgewatch.bearing.diagnose import VERDICTS
from edgewatch.bearing.geometry import BearingGeometry

__all__ = ["COLUMNS", "ManifestError", "Recording", "label_from_name", "read_manifest"]

COLUMNS: tuple[str, ...] = (
    "file",
    "sampleRateHz",
    "rpm",
    "channel",
    "balls",
    "ballDiameterIn",
    "pitchDiameterIn",
    "contactAngleDeg",
)
CHANNELS: tuple[str, ...] = ("DE", "FE", "BA")
MAX_ROWS = 10_000


class ManifestError(ValueError):
    """A manifest the eval cannot use; ``field`` names the column (or ``header``), ``line`` the CSV line."""

    def __init__(self, path: Path, line: int, field: str, message: str) -> None:
        super().__init__(f"{path}:{line}: {field}: {message}")
        self.path = path
        self.line = line
        self.field = field


@dataclass(frozen=True, slots=True)
class Recording:
    """One manifest row, validated."""

    file: str
    path: Path
    sample_rate_hz: float
    rpm: float | None
    channel: str  # the .mat variable suffix, e.g. "DE_time"
    geometry: BearingGeometry
    label: str | None


_LABEL_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"normal", "normal"),
    (r"(^|[_\-/])IR\d", "inner"),
    (r"(^|[_\-/])OR\d", "outer"),
    (r"(^|[_\-/])B\d", "ball"),
)


def label_from_name(name: str) -> str | None:
    """The class of a CWRU recording from its file name (``..._IR007_...`` -> inner), or None."""
    stem = Path(name).name
    for pattern, label in _LABEL_PATTERNS:
        if re.search(pattern, stem, flags=re.IGNORECASE if label == "normal" else 0):
            return label
    return None


def _number(path: Path, line: int, row: dict[str, str], field: str, *, lo: float, hi: float = math.inf) -> float:
    text = (row.get(field) or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise ManifestError(path, line, field, f"not a number: {text!r}") from None
    if not math.isfinite(value) or not lo <= value < hi:
        raise ManifestError(path, line, field, f"{text!r} out of range [{lo:g}, {hi:g})")
    return value


def _row(path: Path, data: Path, line: int, row: dict[str, str]) -> Recording:
    file = (row.get("file") or "").strip()
    if not file:
        raise ManifestError(path, line, "file", "empty")
    target = (data / file).resolve()
    if not target.is_relative_to(data.resolve()):
        raise ManifestError(path, line, "file", f"{file!r} lies outside the data folder")
    if not target.is_file():
        raise ManifestError(path, line, "file", f"unknown file {file!r} (not in {data})")
    fs = _number(path, line, row, "sampleRateHz", lo=1.0)
    rpm = None if not (row.get("rpm") or "").strip() else _number(path, line, row, "rpm", lo=1.0)
    channel = (row.get("channel") or "").strip()
    base = channel.removesuffix("_time")
    if base not in CHANNELS:
        raise ManifestError(path, line, "channel", f"{channel!r} is none of {', '.join(CHANNELS)} (or *_time)")
    balls = _number(path, line, row, "balls", lo=1.0, hi=1000.0)
    if balls != int(balls):
        raise ManifestError(path, line, "balls", f"not a whole number: {row['balls']!r}")
    d = _number(path, line, row, "ballDiameterIn", lo=1e-6)
    pitch = _number(path, line, row, "pitchDiameterIn", lo=1e-6)
    if d >= pitch:
        raise ManifestError(path, line, "ballDiameterIn", f"{d:g} is not below pitchDiameterIn {pitch:g}")
    angle = _number(path, line, row, "contactAngleDeg", lo=0.0, hi=90.0)
    label = (row.get("label") or "").strip() or None
    if label is not None and label not in VERDICTS:
        raise ManifestError(path, line, "label", f"{label!r} is none of {', '.join(VERDICTS)}")
    return Recording(
        file=file,
        path=target,
        sample_rate_hz=fs,
        rpm=rpm,
        channel=f"{base}_time",
        geometry=BearingGeometry(int(balls), d, pitch, angle),
        label=label or label_from_name(file),
    )


def read_manifest(path: Path, data: Path) -> list[Recording]:
    """Every row of the manifest at ``path``, its files under ``data``; raises :class:`ManifestError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(path, 0, "manifest", f"cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ManifestError(path, 1, missing[0], f"missing column(s) {', '.join(missing)} (header: {header})")
    reader.fieldnames = header
    out: list[Recording] = []
    for row in reader:
        if len(out) >= MAX_ROWS:
            raise ManifestError(path, reader.line_num, "file", f"more than {MAX_ROWS} rows")
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        out.append(_row(path, data, reader.line_num, row))
    if not out:
        raise ManifestError(path, 2, "file", "no rows")
    return out
