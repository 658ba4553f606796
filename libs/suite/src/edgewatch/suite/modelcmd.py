"""``edgewatch model``: push, list, shadow, promote, rollback and status talk to edgewatch-inference's REST API;
``train``, ``quantize`` and ``eval skab`` are forwarded to ``edgewatch.detect.cli.main`` and ``eval cwru`` to
``edgewatch.bearing.cli.main`` (imported only then: the suite runs without those packages).

A model directory holds ``model.onnx`` and ``meta.json`` (the issue-13 model contract: name, version, inputNames,
threshold, golden, window, algorithm, thresholdMethod, calibration, persistence, quantized). The service is found
at ``--url``, else at the inference port of a running ``edgewatch up`` (``<data-dir>/run/ports.json``), else on
the default port; the bearer token is read from ``--token-file``, else ``<data-dir>/secrets/api-token`` if present.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from edgewatch.common.contracts import ports

__all__ = ["FORWARDED", "UPLOAD_KEYS", "add_parser", "forward", "run", "upload_body"]

FORWARDED = {"train": "edgewatch.detect.cli", "quantize": "edgewatch.detect.cli"}
_EVAL = {"skab": "edgewatch.detect.cli", "cwru": "edgewatch.bearing.cli"}
UPLOAD_KEYS = (
    "name",
    "version",
    "inputNames",
    "threshold",
    "golden",
    "goldenSet",
    "sha256",
    "window",
    "algorithm",
    "thresholdMethod",
    "calibration",
    "persistence",
    "quantized",
)
"""meta.json keys sent with an upload (others, such as ``created``, are the registry's own)."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``model`` and its operations."""
    model = sub.add_parser("model", help="push, list, shadow, promote, roll back models; train and evaluate detectors")
    ops = model.add_subparsers(dest="op", required=True)
    push = ops.add_parser("push", help="upload a model directory (model.onnx + meta.json)")
    push.add_argument("dir", type=Path)
    push.add_argument("--device", default="", help="the device's own slot (default: every device without one)")
    mode = push.add_mutually_exclusive_group()
    mode.add_argument("--shadow", action="store_true", help="score beside the serving model; promote later")
    mode.add_argument("--no-activate", action="store_true", help="store only")
    ops.add_parser("list", help="stored models and what serves each slot")
    sh = ops.add_parser("shadow", help="score a stored model beside the serving one")
    sh.add_argument("name")
    sh.add_argument("version")
    sh.add_argument("--device", default="")
    pr = ops.add_parser("promote", help="promote the slot's shadow (criteria checked), or activate NAME VERSION")
    pr.add_argument("name", nargs="?", default="")
    pr.add_argument("version", nargs="?", default="")
    pr.add_argument("--device", default="")
    pr.add_argument("--force", action="store_true", help="promote the shadow even if a live criterion fails")
    rb = ops.add_parser("rollback", help="serve the slot's previous model again")
    rb.add_argument("--device", default="")
    st = ops.add_parser("status", help="shadows with their live criteria, probations, recent promotions and rollbacks")
    for p in (push, ops.choices["list"], sh, pr, rb, st):
        p.add_argument("--url", default="", help="inference REST base URL (default: the local suite's)")
        p.add_argument("--token-file", default="", help="REST bearer token file")
        p.add_argument("--data-dir", default="", help="edgewatch data directory (ports and token of `edgewatch up`)")
    # listed for --help only: cli.main hands these to forward() before argparse sees their options
    for name in ("train", "quantize"):
        ops.add_parser(name, help=f"forwarded to edgewatch.detect.cli.main([{name!r}, ...])")
    ops.add_parser(
        "eval", help="eval skab ... -> edgewatch.detect.cli.main; eval cwru ... -> edgewatch.bearing.cli.main"
    )


def forward(argv: list[str]) -> int:
    """Run ``train|quantize|eval skab|eval cwru`` (``argv`` starts with the operation) in its package's CLI."""
    op = argv[0]
    module = FORWARDED.get(op) or _EVAL.get(argv[1] if len(argv) > 1 else "")
    if module is None:
        print("edgewatch model eval: say which data set: eval skab ... | eval cwru ...", file=sys.stderr)
        return 2
    try:
        cli = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not module.startswith(e.name):
            raise
        pkg = module.rsplit(".", 1)[0]
        print(f"edgewatch model {op}: {pkg} is not installed (install its package, e.g. `pip install -e "
              f"libs/{pkg.split('.')[-1]}`)", file=sys.stderr)  # fmt: skip
        return 2
    return int(cli.main(argv) or 0)


def upload_body(model_dir: Path, *, device: str = "", shadow: bool = False, activate: bool = True) -> dict[str, Any]:
    """The POST /api/v3/model body for a model directory.

    Raises:
        OSError: model.onnx or meta.json cannot be read.
        ValueError: meta.json is not a JSON object.
    """
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"{model_dir / 'meta.json'}: not a JSON object")
    body = {k: meta[k] for k in UPLOAD_KEYS if k in meta}
    body["model"] = base64.b64encode((model_dir / "model.onnx").read_bytes()).decode()
    return {**body, "activate": activate and not shadow, "shadow": shadow, "device": device}


def _client(args: argparse.Namespace, data_dir: Path) -> httpx.Client:
    url = args.url
    if not url:
        port = ports.INFERENCE
        ports_file = data_dir / "run" / "ports.json"
        if ports_file.exists():
            port = int(json.loads(ports_file.read_text()).get("inference", port))
        url = f"http://127.0.0.1:{port}"
    token_file = Path(args.token_file) if args.token_file else data_dir / "secrets" / "api-token"
    headers = {}
    if args.token_file or token_file.exists():
        headers["Authorization"] = f"Bearer {token_file.read_text(encoding='utf-8').strip()}"
    return httpx.Client(base_url=url, headers=headers, timeout=120)


def _call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = client.request(method, path, json=body)
    doc: dict[str, Any] = r.json() if r.content else {}
    if r.status_code >= 400:
        raise _Refused(r.status_code, str(doc.get("message", r.text)))
    return doc


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")


def _print_list(models: list[dict[str, Any]], active: dict[str, Any]) -> None:
    serving = {(s["current"]["name"], s["current"]["version"]): s["slot"] for s in active["slots"] if s["current"]}
    shadows = {(s["model"]["name"], s["model"]["version"]): s["slot"] for s in active.get("shadows", [])}
    print(f"{'NAME':28} {'VERSION':22} {'W':>4} {'THRESHOLD':>10} {'ALGORITHM':18} STATE")
    for m in models:
        key = (m["name"], m["version"])
        state = f"serving {serving[key]}" if key in serving else f"shadow {shadows[key]}" if key in shadows else ""
        w, thr, alg = m.get("window", 1), m["threshold"], m.get("algorithm", "") or "-"
        print(f"{m['name']:28} {m['version']:22} {w:>4} {thr:>10.4g} {alg:18} {state}")


def run(args: argparse.Namespace, data_dir: Path) -> int:
    """Run one REST operation of ``edgewatch model``; refusals print the service's message, exit status 1."""
    try:
        with _client(args, data_dir) as c:
            if args.op == "push":
                body = upload_body(args.dir, device=args.device, shadow=args.shadow, activate=not args.no_activate)
                m = _call(c, "POST", "/api/v3/model", body)["model"]
                how = "shadowing" if args.shadow else "stored" if args.no_activate else "serving"
                print(f"{m['name']}/{m['version']} {how} (slot {args.device or '*'}, sha256 {m['sha256'][:12]})")
            elif args.op == "list":
                _print_list(_call(c, "GET", "/api/v3/model")["models"], _call(c, "GET", "/api/v3/model/active"))
            elif args.op == "shadow":
                body = {"name": args.name, "version": args.version, "device": args.device}
                s = _call(c, "POST", "/api/v3/model/shadow", body)["shadow"]
                print(f"{args.name}/{args.version} shadowing slot {s['slot']}")
            elif args.op == "promote":
                if args.name:
                    body = {"name": args.name, "version": args.version, "device": args.device}
                    m = _call(c, "POST", "/api/v3/model/activate", body)["model"]
                else:
                    m = _call(c, "POST", "/api/v3/model/promote", {"device": args.device, "force": args.force})["model"]
                print(f"{m['name']}/{m['version']} serves slot {args.device or '*'}")
            elif args.op == "rollback":
                m = _call(c, "POST", "/api/v3/model/rollback", {"device": args.device})["model"]
                print(f"{m['name']}/{m['version']} serves slot {args.device or '*'} again")
            else:
                print(json.dumps(_call(c, "GET", "/api/v3/model/shadow"), indent=1))
    except _Refused as e:
        print(f"edgewatch model {args.op}: refused ({e})", file=sys.stderr)
        return 1
    except httpx.HTTPError as e:
        print(f"edgewatch model {args.op}: cannot reach the inference service: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"edgewatch model {args.op}: {e}", file=sys.stderr)
        return 2
    return 0
