"""Screenshots of every console page for docs/console/ (the README links them).

Runs the demo suite (`edgewatch up --demo` on free ports, a temporary data directory), waits until the demo rule
has raised on the pump, stores a second model for the pump (so the models page shows a previous one) and shadows the
auto-fitted one again (its criteria, and a promotion refused for too few vectors, on the models page), and saves
overview, device, rules (an invalid edit with its field error), models and profiles & devices pages as PNG.

    .venv/bin/python tools/console_screenshots.py [OUT_DIR]   # default docs/console
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from edgewatch.suite.layout import Ports

CHROMIUM = os.environ.get("EDGEWATCH_CHROMIUM", "/usr/bin/chromium")


def _call(url: str, token: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}"})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _wait(pred: Any, timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            got = pred()
            if got:
                return got
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError


def shoot(out: Path, ports: Ports, token: str) -> None:
    base = f"http://127.0.0.1:{ports.console}"
    rules = f"http://127.0.0.1:{ports.rules}/api/v3"
    inference = f"http://127.0.0.1:{ports.inference}/api/v3"
    raised = _wait(
        lambda: any(
            d["alertState"] == "raised"
            for r in _call(f"{rules}/rule", token)["rules"]
            for d in r["status"]["devices"].values()
        ),
        240,
    )
    assert raised
    auto = _wait(lambda: next(s["current"] for s in _call(f"{inference}/model/active", token)["slots"]), 60)
    n = len(auto["inputNames"])
    body = {"name": "pump-retrained", "version": "2", "inputNames": auto["inputNames"], "mean": [0.0] * n}
    _call(f"{inference}/model/baseline", token, {**body, "std": [1.0] * n, "threshold": 50.0, "device": "demo-pump"})
    # the auto-fitted model back as a shadow: the models page shows its live criteria
    _call(f"{inference}/model/shadow", token, {"name": auto["name"], "version": auto["version"], "device": "demo-pump"})
    time.sleep(12)  # a few scores from the new model on the device page, a few vectors compared
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}/ui/login")
        page.screenshot(path=str(out / "login.png"))
        page.fill("[data-testid=token]", token)
        page.click("[data-testid=login-submit]")
        page.wait_for_url("**/ui/")
        page.wait_for_selector("[data-testid=device-demo-pump]")
        page.screenshot(path=str(out / "overview.png"), full_page=True)
        page.goto(f"{base}/ui/#/device/demo-pump")
        page.wait_for_timeout(4000)
        page.screenshot(path=str(out / "device.png"), full_page=True)
        page.goto(f"{base}/ui/#/rules")
        page.click("[data-testid=rule-edit-pump-vibration-high]")
        page.fill("[data-testid=rule-form] input[name='condition.threshold']", "eight")
        page.click("[data-testid=rule-save]")
        page.wait_for_selector("[data-error-for='condition.threshold']:not(:empty)")
        page.screenshot(path=str(out / "rules.png"), full_page=True)
        page.goto(f"{base}/ui/#/models")
        page.wait_for_selector("[data-testid=criterion-demo-pump-vectors]")
        page.click("[data-testid=promote-demo-pump]")  # refused (too few vectors): the failing criteria shown
        page.wait_for_selector("[data-testid=force-promote-demo-pump]")
        page.screenshot(path=str(out / "models.png"), full_page=True)
        page.goto(f"{base}/ui/#/config")
        page.fill("[data-testid=profile-yaml]", "name: broken-profile\ndeviceResources:\n  - name: Speed\n")
        page.click("[data-testid=profile-upload]")
        page.wait_for_selector("[data-testid=profile-form] .field-error:not(:empty)")
        page.screenshot(path=str(out / "config.png"), full_page=True)
        browser.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console")
    out.mkdir(parents=True, exist_ok=True)
    ports = Ports.free()
    spec = ",".join(f"{k}={v}" for k, v in ports.as_dict().items())
    with tempfile.TemporaryDirectory(prefix="ew-console-shots-") as tmp:
        data = Path(tmp) / "data"
        with open(Path(tmp) / "up.log", "w") as log:
            up = subprocess.Popen(
                [sys.executable, "-m", "edgewatch.suite", "up", "--demo", "--data-dir", str(data), "--ports", spec],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait(lambda: urllib.request.urlopen(f"http://127.0.0.1:{ports.console}/api/v3/ping", timeout=2), 120)
                shoot(out, ports, (data / "secrets" / "api-token").read_text().strip())
            finally:
                up.send_signal(signal.SIGTERM)
                up.wait(30)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
