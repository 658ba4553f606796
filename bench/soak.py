"""Soak: the demo plus load for an hour (``make soak``; not in CI, not in ``make bench``), RSS per process sampled
every minute, and a report with each process's RSS slope after warm-up (goal: flat, <= 1 MB/h) and error counts.

The suite runs as `edgewatch up --demo` runs it (bench/e2e.py's setup: the same processes, the demo's simulators,
auth on); this process plays the EdgeX device service ``bench-ds`` of bench/e2e.py and publishes its events at
``--rate`` (default 200 events/s: the demo's own traffic plus what a small plant adds, kept modest because the
machine may be shared), every 25th event the trip pump alternately crossing and clearing the rule, so commands
flow from rules to bench-ds (rules' direct route) all along.

Every minute: RSS of every process (children included), the mean of samples ``--subsample`` seconds apart over
that minute (nats-server's RSS saws by 10-30 MB with Go's collections a few seconds apart: one instant a minute
made its hour's slope noise, +-3-5 MB/h of standard error; its minute means still swing 89-106 MB, so the mean
narrows that only to about +-2.8 MB/h), and the counters that say something went wrong: dead
letters, sync drops, rules' failed commands, crossings without a SET, process restarts, ERROR lines in the logs.
The slope is a least-squares fit of RSS against time over the samples after ``--warmup`` minutes (the goal's
figure), with its standard error; beside it the Theil-Sen slope (robust to a sawtooth) and the range. The warm-up
(15 minutes) is what the suite's bounded stores need to reach their size at the default load: core-data's event
stream fills to ``Core.Retention.MaxEvents`` (100,000) in about 7 minutes at the ~240 events/s of the soak and the
demo, and its index dicts reach their steady table size once about 75,000 more have churned through them (CPython
rebuilds a dict at three times its live count when its entries run out): an 8-10 MB step of the background process
at minute 12-14, once (soaks of 2026-12-07). The console's histories take their memory within minutes of a device's
first frames (``console/live.py``). ``rss.csv`` keeps every sample, so any other window can be fitted. Output:
``<out>/rss.csv`` (one row per sample) and ``<out>/report.md``, also printed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from e2e import DS, NOT_GATEWAY, DeviceService, Suite, counters, gateway_clients, make_events, register
from edgewatch.common.contracts import topics
from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.services import build_specs
from edgewatch.suite.supervisor import Supervisor


async def load_forever(ds: DeviceService, rate: float, stop: asyncio.Event) -> int:
    """Publish bench-ds events at ``rate`` until ``stop``, a minute of events encoded at a time."""
    sent = 0
    while not stop.is_set():
        events = make_events(int(rate * 60), rate)
        sent += await ds.publish(events, rate, stop)
    return sent


async def mean_rss(suite: Suite, until: float, every: float) -> dict[str, float]:
    """RSS per process (MB) averaged over samples ``every`` seconds apart until ``until`` (monotonic), the last one
    at ``until``; one sample at ``until`` when ``every`` is 0. A Go process's RSS saws with its collections (a few
    seconds apart): one sample a minute lands at a random point of that saw and its noise swamps an hour's slope."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    while True:
        now = time.monotonic()
        last = every <= 0 or now + every > until
        await asyncio.sleep(max(0.0, (until if last else now + every) - now))
        for name, mb in suite.rss_mb().items():
            sums.setdefault(name, 0.0)
            counts.setdefault(name, 0)
            if not math.isnan(mb):  # NaN: the process was gone at that instant
                sums[name] += mb
                counts[name] += 1
        if last:
            return {n: sums[n] / counts[n] if counts[n] else float("nan") for n in sums}


def slope_mb_per_h(ts: list[float], ys: list[float]) -> float:
    """Least-squares slope of ``ys`` (MB) against ``ts`` (s), in MB per hour."""
    if len(ts) < 2:
        return float("nan")
    return float(np.polyfit(np.array(ts) / 3600.0, np.array(ys), 1)[0])


def slope_stderr_mb_per_h(ts: list[float], ys: list[float]) -> float:
    """Standard error of the least-squares slope (MB per hour): how far the samples' scatter (a sawtooth) lets the
    slope move; a slope within about two of these of zero cannot be told from flat."""
    if len(ts) < 3:
        return float("nan")
    t, y = np.array(ts) / 3600.0, np.array(ys)
    k, c = np.polyfit(t, y, 1)
    resid = y - (k * t + c)
    return float(np.sqrt(resid @ resid / (len(t) - 2) / ((t - t.mean()) @ (t - t.mean()))))


def robust_slope_mb_per_h(ts: list[float], ys: list[float]) -> float:
    """Theil-Sen slope (the median of the slopes between every two samples), in MB per hour: a sawtooth (nats-server's
    Go collector, a periodic malloc_trim) moves it far less than a least-squares fit, a steady creep just as much."""
    t, y = np.array(ts) / 3600.0, np.array(ys)
    i, j = np.triu_indices(len(t), k=1)
    keep = t[j] > t[i]
    if not keep.any():
        return float("nan")
    return float(np.median((y[j] - y[i])[keep] / (t[j] - t[i])[keep]))


def error_lines(logs_dir: Path) -> tuple[dict[str, int], list[str]]:
    """ERROR lines per process log, and the first three of each (cut to 300 characters) for the report."""
    counts, firsts = {}, []
    for f in sorted(logs_dir.glob("*.log")):
        lines = [x for x in f.read_text(errors="replace").splitlines() if '"level":"ERROR"' in x or " ERROR " in x]
        if lines:
            counts[f.stem] = len(lines)
            firsts += [f"{f.stem}: {x[:300]}" for x in lines[:3]]
    return counts, firsts


async def soak(args: argparse.Namespace, out_dir: Path) -> None:
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="edgewatch-soak-") as tmp:
        cfg = SuiteConfig(Path(tmp), Ports.free(), demo=True, auth=True, log_level="INFO")
        (cfg.run_dir / "ports.json").write_text(json.dumps(cfg.ports.as_dict()))
        sup = Supervisor(build_specs(cfg), cfg.logs_dir, cfg.run_dir / "state.json")
        await sup.start(ready_timeout=120)
        t_up = time.monotonic()
        suite = Suite(cfg, sup)
        bus, meta, rules = await gateway_clients(cfg)
        ds = DeviceService(bus)
        ds.measuring = True
        stop = asyncio.Event()
        samples: list[dict[str, float]] = []
        names: list[str] = []
        try:
            await bus.subscribe(topics.device_command_request_all(DS), ds.on_command)
            await register(meta, rules)
            loader = asyncio.create_task(load_forever(ds, args.rate, stop))
            with open(out_dir / "rss.csv", "w", newline="") as fh:  # noqa: ASYNC230 - one small file, once
                writer: Any = None
                for minute in range(args.minutes + 1):
                    rss = await mean_rss(suite, t_up + minute * args.every, args.subsample if minute else 0.0)
                    if not names:
                        names = sorted(rss)
                        writer = csv.writer(fh)
                        writer.writerow(["t_s", "gateway_mb", *names])
                    gw = sum(v for n, v in rss.items() if n not in NOT_GATEWAY)
                    row = {"t_s": time.monotonic() - t_up, "gateway_mb": gw, **rss}
                    samples.append(row)
                    assert writer is not None
                    writer.writerow(
                        [f"{row['t_s']:.0f}", f"{gw:.1f}", *(f"{rss.get(n, float('nan')):.1f}" for n in names)]
                    )
                    fh.flush()
                    print(
                        f"[{minute:3d} min] gateway {gw:.1f} MB; " + ", ".join(f"{n} {rss[n]:.1f}" for n in names),
                        flush=True,
                    )
            stop.set()
            sent = await loader
            texts = await asyncio.to_thread(suite.metrics)
        finally:
            stop.set()
            await meta.aclose()
            await rules.aclose()
            await bus.drain()
            await sup.stop()
            suite.http.close()
        restarts = {c.spec.name: c.restarts for c in sup.children if c.restarts}
        errors, first_errors = error_lines(cfg.logs_dir)
    c = counters(texts)
    rules_text = texts.get("edgewatch-rules", "")
    failed = sum(
        float(line.rsplit(" ", 1)[1])
        for line in rules_text.splitlines()
        if line.startswith("edgewatch_rules_commands_total") and 'result="failed"' in line
    )
    warm = [s for s in samples if s["t_s"] >= args.warmup * args.every]
    ts = [s["t_s"] for s in warm]
    lines = [
        f"# edgewatch soak report ({started})",
        "",
        f"- {args.minutes} samples {args.every:g} s apart after the suite was up, each the mean RSS over the "
        f"interval it ends (sampled every {args.subsample:g} s; 0: one instant); load: bench-ds events at "
        f"{args.rate:g}/s ({sent} sent) beside the demo (Modbus pump, OPC UA mixer); warm-up {args.warmup} samples",
        f"- machine: {os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.2f} (shared machine)",
        f"- commands: {len(ds.latencies)} SETs received for crossings, {ds.unmatched} SETs without a crossing, "
        f"{len(ds.published)} crossings without a SET at the end; rules' failed commands: {failed:g}",
        f"- dead letters: {c['dead_letters']:g}; sync drops by policy: {c['sync_dropped']:g}; "
        f"restarts: {restarts or 'none'}; ERROR log lines: {errors or 'none'}",
        "",
        "| process | RSS at warm-up end (MB) | RSS at the end (MB) | slope after warm-up (MB/h) | its standard "
        "error (MB/h) | goal | Theil-Sen slope (MB/h) | min-max after warm-up (MB) |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name in ["gateway_mb", *names]:
        ys = [s[name] for s in warm]
        if not ys:
            continue
        k = slope_mb_per_h(ts, ys)
        label = "gateway total" if name == "gateway_mb" else name
        goal = "-" if name in NOT_GATEWAY or name == "gateway_mb" else ("ok" if k <= 1.0 else "NOT MET")
        robust = robust_slope_mb_per_h(ts, ys)
        lines.append(
            f"| {label} | {ys[0]:.1f} | {ys[-1]:.1f} | {k:+.2f} | {slope_stderr_mb_per_h(ts, ys):.2f} | {goal} "
            f"| {robust:+.2f} "
            f"| {min(ys):.1f}-{max(ys):.1f} |"
        )
    if first_errors:
        lines += ["", "First ERROR lines:", "", *(f"    {x}" for x in first_errors)]
    report = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(report)
    print(report)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=int, default=60, help="samples to take (one per --every seconds)")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    ap.add_argument(
        "--subsample", type=float, default=2.0, help="seconds between the RSS samples a minute's mean averages (0: one)"
    )
    ap.add_argument("--warmup", type=int, default=15, help="samples before the slope is fitted (see the docstring)")
    ap.add_argument("--rate", type=float, default=200.0, help="bench-ds events/s beside the demo")
    ap.add_argument("--out", default="soak-report", help="directory for rss.csv and report.md")
    args = ap.parse_args()
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(soak(args, out_dir))


if __name__ == "__main__":
    main()
