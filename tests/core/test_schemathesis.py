"""schemathesis (bounded for CI) against EdgeX's own specs, pointed at a real core process: no 5xx, no crash.

The full run (>= 1000 cases) is ``python tools/schemathesis_core.py --max-examples 30``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.shared import shared_mark, shared_path

ROOT = Path(__file__).resolve().parents[2]


@shared_mark("edgex", "openapi")
def test_schemathesis_bounded_run_against_edgex_specs_finds_no_server_error() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "schemathesis_core.py"),
            "--max-examples",
            "1",
            "--phases",
            "examples,fuzzing",
            "--timeout",
            "90",
            "--specs",
            str(shared_path("edgex", "openapi")),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "RESULT schemathesis_5xx 0 failures" in proc.stdout
    assert "core alive after the run: True" in proc.stdout
