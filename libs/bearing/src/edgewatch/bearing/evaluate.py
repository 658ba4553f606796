"""``edgewatch model eval cwru``: every manifest recording cut into windows, a verdict per window, the goals.

Windows: :func:`diagnose.window_length` samples (a power of two, about 0.68 s at 12 and 48 kHz), hop half a
window. Recording verdict: a fault when at least ``FAULT_SHARE`` of its windows are flagged (five times the
healthy false-alarm budget of 5 %, so a healthy recording within budget is never called faulty), and then the
fault type most of its flagged windows name; else normal.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgewatch.bearing.diagnose import (
    FAMILIES,
    HEALTHY_RMS_G,
    VERDICTS,
    Diagnoser,
    DiagnosisSettings,
    window_length,
)
from edgewatch.bearing.manifest import Recording
from edgewatch.bearing.matfile import read_channel, read_rpm

__all__ = [
    "FAULT_SHARE",
    "GOAL_HEALTHY_FLAGGED",
    "GOAL_TYPE_RIGHT",
    "Goals",
    "RecordingResult",
    "evaluate",
    "evaluate_recording",
    "goals",
    "write_predictions",
]

FAULT_SHARE = 0.25
GOAL_TYPE_RIGHT = 0.90
GOAL_HEALTHY_FLAGGED = 0.05


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """One recording's windows and verdicts."""

    file: str
    channel: str
    label: str | None
    rpm: float
    verdicts: list[str]
    verdict: str
    scores: list[dict[str, float]] = field(repr=False)
    kurtosis: list[float] = field(repr=False)
    impulsiveness: list[float] = field(repr=False)

    def medians(self) -> dict[str, float]:
        """Median over the windows of each family score, the kurtosis and the impulsiveness (the evidence)."""
        out = {f: float(np.median([s[f] for s in self.scores])) for f in FAMILIES}
        out["kurtosis"] = float(np.median(self.kurtosis))
        out["impulsiveness"] = float(np.median(self.impulsiveness))
        return out

    @property
    def shares(self) -> dict[str, float]:
        """Share of windows per verdict."""
        counts = Counter(self.verdicts)
        return {v: counts[v] / len(self.verdicts) for v in VERDICTS}


def recording_verdict(verdicts: list[str]) -> str:
    """Fault when ``FAULT_SHARE`` of the windows are flagged: the type most flagged windows name; else normal."""
    flagged = [v for v in verdicts if v != "normal"]
    if not verdicts or len(flagged) < FAULT_SHARE * len(verdicts):
        return "normal"
    counts = Counter(flagged)
    return max(FAMILIES, key=lambda f: counts[f])


def evaluate_recording(rec: Recording, settings: DiagnosisSettings | None = None) -> RecordingResult:
    """Diagnose every window of one recording."""
    x = read_channel(rec.path, rec.channel)
    rpm = rec.rpm if rec.rpm is not None else read_rpm(rec.path)
    n = window_length(rec.sample_rate_hz)
    if x.shape[0] < n:
        raise ValueError(f"{rec.file}: {x.shape[0]} samples, shorter than one {n}-sample window")
    diag = Diagnoser(n, rec.sample_rate_hz, rec.geometry, rpm / 60.0, settings, HEALTHY_RMS_G.get(rec.channel))
    out = [diag.diagnose(x[s : s + n]) for s in range(0, x.shape[0] - n + 1, n // 2)]
    verdicts = [d.verdict for d in out]
    return RecordingResult(
        rec.file,
        rec.channel,
        rec.label,
        rpm,
        verdicts,
        recording_verdict(verdicts),
        [d.scores for d in out],
        [d.kurtosis for d in out],
        [d.impulsiveness for d in out],
    )


def evaluate(recordings: list[Recording], settings: DiagnosisSettings | None = None) -> list[RecordingResult]:
    """Diagnose every recording of a manifest, in manifest order."""
    return [evaluate_recording(r, settings) for r in recordings]


def write_predictions(results: list[RecordingResult], path: Path) -> None:
    """``file,window,verdict`` rows (window = 0-based index of the half-overlapping window)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "window", "verdict"])
        for r in results:
            w.writerows([r.file, i, v] for i, v in enumerate(r.verdicts))


@dataclass(frozen=True, slots=True)
class Goals:
    """The issue's three goals over the labelled recordings (None: no recording of that kind)."""

    fault_recordings: int
    detected: int
    type_right: int
    healthy_windows: int
    healthy_flagged: int

    @property
    def all_detected(self) -> bool | None:
        return None if not self.fault_recordings else self.detected == self.fault_recordings

    @property
    def type_share(self) -> float | None:
        return None if not self.fault_recordings else self.type_right / self.fault_recordings

    @property
    def healthy_flagged_share(self) -> float | None:
        return None if not self.healthy_windows else self.healthy_flagged / self.healthy_windows

    def met(self) -> dict[str, bool | None]:
        """Each goal: met, not met, or None when no labelled recording measures it."""
        ts, hs = self.type_share, self.healthy_flagged_share
        return {
            "every fault recording detected": self.all_detected,
            f"fault type right >= {GOAL_TYPE_RIGHT:.0%}": None if ts is None else ts >= GOAL_TYPE_RIGHT,
            f"healthy windows flagged <= {GOAL_HEALTHY_FLAGGED:.0%}": None
            if hs is None
            else hs <= GOAL_HEALTHY_FLAGGED,
        }


def goals(results: list[RecordingResult]) -> Goals:
    """The goals over the recordings whose label is known."""
    faults = [r for r in results if r.label in FAMILIES]
    healthy = [r for r in results if r.label == "normal"]
    return Goals(
        fault_recordings=len(faults),
        detected=sum(r.verdict != "normal" for r in faults),
        type_right=sum(r.verdict == r.label for r in faults),
        healthy_windows=sum(len(r.verdicts) for r in healthy),
        healthy_flagged=sum(v != "normal" for r in healthy for v in r.verdicts),
    )
