"""Console soak: `edgewatch up --demo` streaming to one open device page for 10 minutes.

Starts the real suite (every service, the demo pump, the console) on free ports in a temporary data directory, logs
in with Debian's Chromium driven by Playwright, opens the demo pump's page (live score, readings and features over
SSE) and every ``--interval`` seconds samples:
- the console process's CPU (psutil user+system over the interval, in % of one core) and RSS;
- the page's JS heap (CDP ``Runtime.getHeapUsage`` after a forced collection, so the sawtooth of the young
  generation does not hide or fake a trend), its DOM node and event-listener counts (CDP ``Performance.getMetrics``)
  and the points in the score chart.
Prints a table and RESULT lines; the heap slope is fitted over the samples after the warm-up (``--warmup``).

    nice -n 10 .venv/bin/python bench/console.py [--minutes 10] [--interval 30] [--warmup 120]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from edgewatch.suite.layout import Ports

CHROMIUM = os.environ.get("EDGEWATCH_CHROMIUM", "/usr/bin/chromium")


def _wait_http(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def _console_proc(sup: psutil.Process) -> psutil.Process:
    for child in sup.children(recursive=True):
        try:
            if "edgewatch.console" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    raise RuntimeError("no edgewatch.console child")


def _slope_per_min(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=120.0, help="seconds before the heap trend is fitted")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"SKIP: {CHROMIUM} not found (apt-get install chromium)")
        return 0
    ports = Ports.free()
    spec = ",".join(f"{k}={v}" for k, v in ports.as_dict().items())
    with tempfile.TemporaryDirectory(prefix="ew-console-soak-") as tmp:
        data = Path(tmp) / "data"
        log = open(Path(tmp) / "up.log", "w")
        up = subprocess.Popen(
            [sys.executable, "-m", "edgewatch.suite", "up", "--demo", "--data-dir", str(data), "--ports", spec],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{ports.console}"
            _wait_http(f"{base}/api/v3/ping", 120)
            token = (data / "secrets" / "api-token").read_text().strip()
            console = _console_proc(psutil.Process(up.pid))
            rows = run_page(base, token, console, args)
        finally:
            up.send_signal(signal.SIGTERM)
            try:
                up.wait(30)
            except subprocess.TimeoutExpired:
                up.kill()
            log.close()
    report(rows, args)
    return 0


def run_page(base: str, token: str, console: psutil.Process, args: argparse.Namespace) -> list[dict[str, float]]:
    rows: list[dict[str, float]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/ui/login")
        page.fill("[data-testid=token]", token)
        page.click("[data-testid=login-submit]")
        page.wait_for_url("**/ui/")
        page.goto(f"{base}/ui/#/device/demo-pump")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        t0 = time.monotonic()
        cpu0 = console.cpu_times()
        last_t, last_cpu = t0, cpu0.user + cpu0.system
        end = t0 + args.minutes * 60
        while True:
            time.sleep(max(0.0, min(args.interval, end - time.monotonic())))
            now = time.monotonic()
            c = console.cpu_times()
            cpu = c.user + c.system
            cdp.send("HeapProfiler.collectGarbage")
            heap = cdp.send("Runtime.getHeapUsage")
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            points = page.get_attribute("[data-testid=score-chart]", "data-points") or "0"
            rows.append(
                {
                    "t": now - t0,
                    "cpu_pct": 100 * (cpu - last_cpu) / (now - last_t),
                    "rss_mb": console.memory_info().rss / 2**20,
                    "heap_mb": heap["usedSize"] / 2**20,
                    "nodes": metrics.get("Nodes", 0),
                    "listeners": metrics.get("JSEventListeners", 0),
                    "score_points": float(points),
                }
            )
            last_t, last_cpu = now, cpu
            print(json.dumps({k: round(v, 3) for k, v in rows[-1].items()}), flush=True)
            if now >= end:
                break
        rows.append({"t": time.monotonic() - t0, "cpu_total_s": cpu - (cpu0.user + cpu0.system)})
        browser.close()
    return rows


def report(rows: list[dict[str, float]], args: argparse.Namespace) -> None:
    total = rows.pop()
    head = ("t s", "console CPU %", "RSS MB", "JS heap MB", "DOM nodes", "listeners", "score pts")
    print("\n" + " ".join(f"{h:>{w}}" for h, w in zip(head, (6, 14, 8, 11, 10, 10, 10), strict=True)))
    for r in rows:
        print(
            f"{r['t']:6.0f} {r['cpu_pct']:14.2f} {r['rss_mb']:8.1f} {r['heap_mb']:11.3f} {r['nodes']:10.0f} "
            f"{r['listeners']:10.0f} {r['score_points']:10.0f}"
        )
    warm = [r for r in rows if r["t"] >= args.warmup]
    mean_cpu = 100 * total["cpu_total_s"] / total["t"]
    slope = _slope_per_min([r["t"] for r in warm], [r["heap_mb"] for r in warm])
    print(f"RESULT console_cpu_mean {mean_cpu:.2f} % of one core ({total['t'] / 60:.1f} min, one page streaming)")
    print(f"RESULT console_cpu_max_interval {max(r['cpu_pct'] for r in rows):.2f} % of one core")
    print(f"RESULT console_rss {rows[0]['rss_mb']:.1f} -> {rows[-1]['rss_mb']:.1f} MB")
    if warm:
        print(f"RESULT page_heap_after_warmup {warm[0]['heap_mb']:.3f} -> {warm[-1]['heap_mb']:.3f} MB (after GC)")
        print(f"RESULT page_heap_slope {slope * 1024:.1f} KB/min after {args.warmup:.0f} s warm-up (goal: flat)")
        print(f"RESULT page_dom_nodes {warm[0]['nodes']:.0f} -> {warm[-1]['nodes']:.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
