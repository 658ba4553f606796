"""``edgewatch model train | quantize | eval skab``: ``main(argv)`` (the suite's ``edgewatch model`` forwards here).

train    --data CSV --out DIR [--algorithm NAME] [--rows N] [--window W] [--threshold-method quantile|pot]
quantize --model DIR --data CSV --out DIR [--rows N]
eval skab --data DIR --predictions OUT.csv [--algorithm NAME] [--int8] [--threshold-method quantile|pot]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from edgewatch.detect.detectors import ALGORITHMS, DEFAULT_ALGORITHM, DEFAULT_WINDOW
from edgewatch.detect.errors import DetectError

__all__ = ["main"]

_FACTOR_HELP = "quantile method: threshold = q99 x factor (default 1.25 in-sample, 1.0 cv)"
_CAL_HELP = "score the training windows in-sample, or out-of-sample by 5 contiguous folds (cv)"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="edgewatch model", description="train, quantise and evaluate detectors")
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train a detector on normal rows of a SKAB-format CSV")
    tr.add_argument("--data", type=Path, required=True)
    tr.add_argument("--out", type=Path, required=True, help="model directory to write (model.onnx + meta.json)")
    tr.add_argument("--algorithm", choices=list(ALGORITHMS), default=DEFAULT_ALGORITHM)
    tr.add_argument("--rows", type=int, default=0, help="train on the first N rows (0 = all)")
    tr.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    tr.add_argument("--threshold-method", choices=["quantile", "pot"], default="quantile")
    tr.add_argument("--factor", type=float, default=None, help=_FACTOR_HELP)
    tr.add_argument("--calibration", choices=["in-sample", "cv"], default="in-sample", help=_CAL_HELP)
    tr.add_argument("--name", default="detector")
    tr.add_argument("--version", default="1")
    qu = sub.add_parser("quantize", help="INT8 (static QDQ) version of a model, threshold re-calibrated")
    qu.add_argument("--model", type=Path, required=True)
    qu.add_argument("--data", type=Path, required=True, help="normal rows to calibrate on (SKAB-format CSV)")
    qu.add_argument("--out", type=Path, required=True)
    qu.add_argument("--rows", type=int, default=0)
    ev = sub.add_parser("eval", help="evaluate on a benchmark")
    evs = ev.add_subparsers(dest="bench", required=True)
    sk = evs.add_parser("skab", help="per file: train on rows 0-399, score rows 400..")
    sk.add_argument("--data", type=Path, required=True, help="folder of SKAB-format CSVs (any depth)")
    sk.add_argument("--predictions", type=Path, required=True, help="CSV: file,row,score,threshold,anomaly")
    sk.add_argument("--algorithm", choices=list(ALGORITHMS), default=DEFAULT_ALGORITHM)
    sk.add_argument("--int8", action="store_true", help="quantise each model and score with the INT8 graph")
    sk.add_argument("--threshold-method", choices=["quantile", "pot"], default="quantile")
    sk.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    sk.add_argument("--factor", type=float, default=None, help=_FACTOR_HELP)
    sk.add_argument("--calibration", choices=["in-sample", "cv"], default="in-sample", help=_CAL_HELP)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (2 for refused input, with the reason on stderr)."""
    args = _parser().parse_args(argv)
    try:
        if args.cmd == "train":
            return _train(args)
        if args.cmd == "quantize":
            return _quantize(args)
        return _eval(args)
    except (DetectError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _rows(path: Path, rows: int) -> tuple[list[str], object]:
    from edgewatch.detect.data import read_recording

    rec = read_recording(path)
    return rec.columns, rec.values[:rows] if rows > 0 else rec.values


def _train(args: argparse.Namespace) -> int:
    from edgewatch.detect.model import save_model, train_model

    columns, values = _rows(args.data, args.rows)
    model = train_model(
        values,  # type: ignore[arg-type]
        columns,
        algorithm=args.algorithm,
        window=args.window,
        threshold_method=args.threshold_method,
        factor=args.factor,
        calibration=args.calibration,
        name=args.name,
        version=args.version,
    )
    save_model(model, args.out)
    print(f"{args.out}: {model.meta['algorithm']} window {model.window} threshold {model.threshold:.6g}")
    return 0


def _quantize(args: argparse.Namespace) -> int:
    import numpy as np

    from edgewatch.detect.data import check_training
    from edgewatch.detect.model import load_model, save_model
    from edgewatch.detect.quantize import quantize_model
    from edgewatch.detect.runtime import sliding_windows

    model = load_model(args.model)
    columns, values = _rows(args.data, args.rows)
    x = np.asarray(values, dtype=np.float64)
    check_training(x, columns, expected=model.meta["inputNames"])
    x = x[:, [columns.index(c) for c in model.meta["inputNames"]]]
    q = quantize_model(model, sliding_windows(x, model.window))
    save_model(q, args.out)
    if not q.meta["quantized"]:
        print(f"{args.out}: {q.meta['calibration']['int8']} ({len(q.onnx)} B), threshold {q.threshold:.6g}")
        return 0
    print(f"{args.out}: int8 {len(q.onnx)} B (fp32 {len(model.onnx)} B), threshold {q.threshold:.6g}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from edgewatch.detect.evaluate import evaluate_skab

    res = evaluate_skab(
        args.data,
        args.predictions,
        algorithm=args.algorithm,
        int8=args.int8,
        threshold_method=args.threshold_method,
        window=args.window,
        factor=args.factor,
        calibration=args.calibration,
    )
    print(f"skab {args.algorithm}{' int8' if args.int8 else ''}:")
    for line in res.lines():
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
