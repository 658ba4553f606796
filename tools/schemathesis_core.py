"""Run schemathesis against EdgeX's own OpenAPI specs (../shared/edgex/openapi), pointed at a real edgewatch core.

Starts nats-server and ``python -m edgewatch.core`` as processes on free loopback ports, seeds a little metadata
so positive cases hit existing entities, then runs ``schemathesis run <spec> --url <base>/api/v3 --checks
not_a_server_error`` for core-metadata, core-data and core-command. Exit status 0 only when no case got a 5xx
and no run crashed. Prints ``RESULT schemathesis_cases <n> cases`` and ``RESULT schemathesis_5xx <n> failures``.

Usage: python tools/schemathesis_core.py [--max-examples N] [--phases examples,coverage,fuzzing] [--specs DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = Path(os.environ.get("EDGEWATCH_SHARED") or ROOT.parent / "shared") / "edgex" / "openapi"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def post(url: str, doc: object) -> int:
    req = urllib.request.Request(url, json.dumps(doc).encode(), {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return int(r.status)


def seed(meta: str, specs: Path) -> None:
    """A device service, the shared profiles and one device, so that GETs by name find something."""
    post(
        f"{meta}/deviceservice",
        [
            {
                "apiVersion": "v3",
                "service": {"name": "device-simple", "baseAddress": "http://127.0.0.1:59999", "adminState": "UNLOCKED"},
            }
        ],
    )
    for p in sorted((specs.parent / "profiles").glob("*")):
        boundary = "edgewatchboundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{p.name}"\r\n'
                f"Content-Type: application/x-yaml\r\n\r\n"
            ).encode()
            + p.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        req = urllib.request.Request(
            f"{meta}/deviceprofile/uploadfile",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=5):
            pass
    post(
        f"{meta}/device?bypassValidation=true",
        [
            {
                "apiVersion": "v3",
                "device": {
                    "name": "Simple-Device01",
                    "serviceName": "device-simple",
                    "profileName": "Simple-Device",
                    "adminState": "UNLOCKED",
                    "operatingState": "UP",
                    "protocols": {"other": {"Address": "simple01"}},
                },
            }
        ],
    )


def run_spec(spec: Path, base: str, args: argparse.Namespace, report: Path) -> tuple[int, int, int, str]:
    """Run one spec; returns (exit code, generated cases, 5xx failures, tail of output)."""
    cmd = [
        str(BIN / "schemathesis"),
        "run",
        str(spec),
        "--url",
        base,
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(args.max_examples),
        "--phases",
        args.phases,
        "--seed",
        str(args.seed),
        "--request-timeout",
        "15",
        "--no-color",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--suppress-health-check",
        "all",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    out = proc.stdout + proc.stderr
    cases = 0
    m = re.search(r"Test cases:\s*\n?\s*(\d+) generated", out) or re.search(r"(\d+) generated", out)
    if m:
        cases = int(m.group(1))
    failures = len(re.findall(r"Server error", out))
    return proc.returncode, cases, failures, out[-6000:]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-examples", type=int, default=30)
    ap.add_argument("--phases", default="examples,coverage,fuzzing")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per spec")
    ap.add_argument("--specs", type=Path, default=SPECS)
    ap.add_argument("--only", default="core-metadata,core-data,core-command")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ew-st-"))
    nats_port, meta_p, data_p, cmd_p = free_port(), free_port(), free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        log = open(tmp / "nats.log", "wb")
        procs.append(
            subprocess.Popen(
                [str(BIN / "nats-server"), "-a", "127.0.0.1", "-p", str(nats_port), "-js", "-sd", str(tmp / "js")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        env = {
            **os.environ,
            "MESSAGEBUS_HOST": "127.0.0.1",
            "MESSAGEBUS_PORT": str(nats_port),
            "CORE_METADATAPORT": str(meta_p),
            "CORE_DATAPORT": str(data_p),
            "CORE_COMMANDPORT": str(cmd_p),
            "SERVICE_REQUESTTIMEOUT": "1",
            "WRITABLE_LOGLEVEL": "ERROR",
            "EDGEWATCH_DATA_DIR": str(tmp / "data"),
        }
        core_log = open(tmp / "core.log", "wb")
        time.sleep(0.5)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "edgewatch.core"], env=env, stdout=core_log, stderr=subprocess.STDOUT
            )
        )
        ports = {"core-metadata": meta_p, "core-data": data_p, "core-command": cmd_p}
        for p in ports.values():
            wait_http(f"http://127.0.0.1:{p}/api/v3/ping")
        seed(f"http://127.0.0.1:{meta_p}/api/v3", args.specs)
        total_cases = total_fail = 0
        ok = True
        for label in args.only.split(","):
            spec = args.specs / f"{label}.yaml"
            code, cases, fails, tail = run_spec(
                spec, f"http://127.0.0.1:{ports[label]}/api/v3", args, tmp / f"{label}.ndjson"
            )
            total_cases += cases
            total_fail += fails
            print(f"{label}: exit={code} cases={cases} server_errors={fails}")
            summary = [
                ln for ln in tail.splitlines() if re.search(r"generated|passed|failed|Operations|Test cases", ln)
            ]
            print("\n".join("    " + ln.strip() for ln in summary[-6:]))
            if code != 0:
                ok = False
                print(tail)
            if procs[1].poll() is not None:
                ok = False
                print("core crashed:", (tmp / "core.log").read_text(errors="replace")[-3000:])
                break
        alive = procs[1].poll() is None
        print(f"core alive after the run: {alive}")
        print(f"RESULT schemathesis_cases {total_cases} cases (goal >= 1000)")
        print(f"RESULT schemathesis_5xx {total_fail} failures (goal == 0)")
        return 0 if ok and alive and total_fail == 0 else 1
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
