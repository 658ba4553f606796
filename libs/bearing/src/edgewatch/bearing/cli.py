"""``edgewatch model eval cwru --data DIR --manifest FILE --predictions OUT.csv [--report OUT.json]``.

:func:`main` takes the argument list after ``edgewatch model`` (``["eval", "cwru", ...]``); a leading
``eval``/``cwru`` may be left out. Exit status: 0 evaluated (whether or not the goals are met; ``--require-goals``
makes an unmet goal 1), 2 bad arguments or a bad manifest (the message names the field), 1 an unreadable recording.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edgewatch.bearing.diagnose import VERDICTS
from edgewatch.bearing.evaluate import RecordingResult, evaluate, goals, write_predictions
from edgewatch.bearing.manifest import ManifestError, read_manifest
from edgewatch.bearing.matfile import RecordingError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edgewatch model eval cwru",
        description="Bearing fault verdicts (normal/inner/outer/ball) per window of CWRU .mat recordings.",
    )
    p.add_argument("--data", type=Path, required=True, help="folder the manifest's file names are relative to")
    p.add_argument("--manifest", type=Path, required=True, help="CSV: file,sampleRateHz,rpm,channel,balls,...")
    p.add_argument("--predictions", type=Path, required=True, help="output CSV: file,window,verdict")
    p.add_argument("--report", type=Path, help="also write the per-recording results and the goals as JSON")
    p.add_argument("--require-goals", action="store_true", help="exit 1 when a measured goal is not met")
    return p


def _report(results: list[RecordingResult]) -> dict[str, Any]:
    g = goals(results)
    return {
        "recordings": [
            {
                "file": r.file,
                "channel": r.channel,
                "label": r.label,
                "rpm": r.rpm,
                "windows": len(r.verdicts),
                "shares": {k: round(v, 4) for k, v in r.shares.items()},
                "verdict": r.verdict,
                "medians": {k: round(v, 3) for k, v in r.medians().items()},
            }
            for r in results
        ],
        "goals": {
            "faultRecordings": g.fault_recordings,
            "detected": g.detected,
            "typeRight": g.type_right,
            "healthyWindows": g.healthy_windows,
            "healthyFlagged": g.healthy_flagged,
            "met": g.met(),
        },
    }


def _print(report: dict[str, Any]) -> None:
    head = f"{'file':40} {'chan':7} {'label':6} {'win':>4} " + " ".join(f"{v:>7}" for v in VERDICTS) + "  verdict"
    print(head)
    for r in report["recordings"]:
        shares = " ".join(f"{r['shares'][v]:7.1%}" for v in VERDICTS)
        line = f"{r['file'][-40:]:40} {r['channel']:7} {r['label'] or '?':6} {r['windows']:4d} {shares}"
        print(f"{line}  {r['verdict']}")
    g = report["goals"]
    print(
        f"fault recordings detected {g['detected']}/{g['faultRecordings']}, type right {g['typeRight']}/"
        f"{g['faultRecordings']}, healthy windows flagged {g['healthyFlagged']}/{g['healthyWindows']}"
    )
    for goal, met in g["met"].items():
        print(f"  {goal}: {'n/a' if met is None else 'met' if met else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    """Run the eval; see the module docstring for the arguments and the exit status."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    for word in ("eval", "cwru"):
        if args_in and args_in[0] == word:
            args_in.pop(0)
    args = _parser().parse_args(args_in)
    try:
        recordings = read_manifest(args.manifest, args.data)
    except ManifestError as exc:
        print(f"error: manifest: {exc}", file=sys.stderr)
        return 2
    try:
        results = evaluate(recordings)
    except (RecordingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_predictions(results, args.predictions)
    report = _report(results)
    if args.report is not None:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print(report)
    return 1 if args.require_goals and False in report["goals"]["met"].values() else 0
