"""End-to-end benchmarks of the whole gateway through the processes `edgewatch up --demo` starts: memory, reading ->
command latency under load and in overload, and pipeline throughput against raw nats-py, in one run.

Setup: nats-server, core (core-metadata, core-data and core-command), sync and the console (one process,
edgewatch-background), features and inference (one process, edgewatch-analytics), the receiver, ingest and rules run
as `edgewatch up --demo` runs them (same argv, env, scheduling classes, auth on), with the demo's Modbus pump and
OPC UA mixer. This process then plays an EdgeX device
service ``bench-ds`` (registered with core-metadata) with 10 background pumps and a ``trip`` pump: it publishes
their EdgeX events (``nats`` format, 3 readings each) on the bus and answers the command requests sent to it. One
rule watches ``BenchCurrent`` of every device (``*``): above 12 A it SETs PumpStop (rules' direct route, the
default), below 11 A it clears.
Every event reaches every consumer of the gateway: core-data persists it, sync buffers and uploads it to the
receiver, features windows it, inference scores the vectors, rules evaluates it.

1. ``suite_rss_mb``: RSS of the gateway processes (nats-server and every service, their children included; not
   the simulators and not the cloud receiver) ``--rss-at`` seconds after the suite is up (60 s: the demo alone).
2. ``e2e_reading_to_command_p50_ms`` / ``_p99_ms``: events at ``--rate`` (1,000/s) in 10 ms ticks; every 25th
   event is the trip pump's, alternately crossing (the rule fires) and clearing. Latency = arrival of the SET at
   bench-ds - publish of the crossing event, both clocks in this process; SETs are matched to crossings by the
   EdgeX correlation id the event carried (rules and core-command pass it on). Each service's hop p99 over the
   run (``edgewatch_hop_seconds``) and CPU per process are printed beside it, and so is the floor of the path's
   shape on this machine: bare nats-py relay processes in a chain, pinged at the crossings' cadence under the same
   load: one relay (two bus transits, one Python wake-up: event -> rules -> the device service, rules' direct
   route), or two with ``--floor-relays 2`` (the route through core-command).
3. ``pipeline_vs_raw_nats``: ``--burst`` events published as fast as the client goes; pipeline rate = events /
   (time from the first event until features has taken every event and inference every vector features published
   meanwhile, read from their /metrics: features' alone until it has taken the burst, then both, a few times per
   burst (each scrape costs the analytics process a few ms of CPU: polled every 50 ms, that was about 9 % of its
   CPU during the burst), so the polling does not load the process it measures; the end is the later of the
   two services' ``edgewatch_bus_last_handled_timestamp_seconds`` in the scrape that found them done, which lies
   between the true end and that scrape, so the polls' spacing does not lengthen it),
   with the rest of the gateway consuming the same events. Raw: the same event bytes through nats-py pub -> sub
   (two connections of this process) on the same nats-server, once the rest of the gateway has consumed the burst
   (the suite's processes under 30 % of one core), so the raw lane does not share the CPU with that backlog.
   ``--bursts`` bursts (3; quick 1), each with its own raw lane, 3 s apart: one burst's ratio varies by about
   +-0.05 between runs on the 2-CPU test VM (where the scheduler puts the burst's work), so the RESULT is the
   median of the bursts' ratios, each of which is printed.
4. ``e2e_overload_p99_ms``: phase 2 at ``--overload-rate`` (2,000/s); drops and backlogs are printed.

The machine may be shared: the load average before and after each phase is printed; quote it with the figures.
``--quick`` runs a short version of everything (RSS at 30 s: not the figure the goal names); ``--rss-only`` stops
after the RSS figure.
``--throughput-only`` runs phase 3 alone (``--rounds`` times), after 2 s of events at 1,000/s.
``--compound`` registers, instead of the one-leaf rule, a three-leaf compound rule (issue 19: all of BenchCurrent
above 12 A (clear 11), BenchVibration above 5 mm/s (clear 4) and not PumpStop) that fires and clears on the same
events, and names its latency figures ``e2e_compound_*``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from nats.aio.msg import Msg

from benchds import register_device_service
from e2eload import BG, COMPOUND_RULE, DS, PROFILE, RULE, TRIP, Event, make_events
from e2epipeline import pipeline_counts, poll_delay, raw_nats, stamped_end
from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import MessageBusSection
from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.promtext import HopHistogram, counter_sum, hop_histograms
from edgewatch.suite.schedclass import background_cpus
from edgewatch.suite.services import build_specs
from edgewatch.suite.supervisor import Supervisor
from relayfloor import RelayFloor
from suiteinfo import print_log_tails, sched_taken

TICK = 0.01
NOT_GATEWAY = {"modbus-sim", "opcua-sim", "edgewatch-receiver"}
PIPELINE = ("edgewatch-features", "edgewatch-inference")  # the services phase 3 polls while it runs
SERVICE_PORTS = {
    "edgewatch-core": "core_data",
    "edgewatch-ingest": "ingest",
    "edgewatch-features": "features",
    "edgewatch-inference": "inference",
    "edgewatch-rules": "rules",
    "edgewatch-sync": "sync",
}


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


class DeviceService:
    """bench-ds on the bus: answers command requests and times each SET against its crossing's publish."""

    def __init__(self, bus: NatsBus) -> None:
        self.bus = bus
        self.published: dict[str, float] = {}  # crossing's correlation id -> publish time (perf_counter)
        self.latencies: list[float] = []
        self.unmatched = 0
        self.measuring = False

    async def on_command(self, msg: Msg) -> None:
        now = time.perf_counter()
        env = decode_envelope(msg)
        if msg.subject.endswith(".set"):
            t0 = self.published.pop(env.correlation_id, None)
            if t0 is None:
                self.unmatched += 1
            elif self.measuring:
                self.latencies.append(now - t0)
        await edgex_respond(self.bus, env, responder=DS)

    async def publish(self, events: list[Event], rate: float, stop: asyncio.Event) -> int:
        """Send events at ``rate`` in TICK bursts; returns how many were sent."""
        loop = asyncio.get_running_loop()
        per_tick = max(1, int(rate * TICK))
        nc = self.bus.nc
        next_tick = loop.time()
        sent = 0
        for k in range(0, len(events), per_tick):
            if stop.is_set():
                break
            for subject, body, headers, crossing in events[k : k + per_tick]:
                if crossing:
                    self.published[headers["X-Correlation-ID"]] = time.perf_counter()
                await nc.publish(subject, body, headers=headers)
                sent += 1
            next_tick += TICK
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
        return sent


async def gateway_clients(cfg: SuiteConfig) -> tuple[NatsBus, httpx.AsyncClient, httpx.AsyncClient]:
    """The bench's device service's bus connection (as the operator's ``admin`` NATS user: the bench is no service)
    and REST clients of core-metadata and rules with the suite's API token."""
    user, password = cfg.nats_credentials("admin")
    bus = NatsBus(
        MessageBusSection(host="127.0.0.1", port=cfg.ports.nats, user=user, password=password), DS, ServiceMetrics(DS)
    )
    await bus.connect()
    token = {"Authorization": f"Bearer {cfg.secret('api-token')}"}
    meta = httpx.AsyncClient(base_url=f"http://127.0.0.1:{cfg.ports.core_metadata}/api/v3", headers=token)
    rules = httpx.AsyncClient(base_url=f"http://127.0.0.1:{cfg.ports.rules}/api/v3", headers=token)
    return bus, meta, rules


async def register(meta: httpx.AsyncClient, rules: httpx.AsyncClient, compound: bool = False) -> None:
    await register_device_service(meta, DS, PROFILE, [TRIP, *BG])
    (await rules.post("/rule", json=COMPOUND_RULE if compound else RULE)).raise_for_status()


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q)) * 1e3 if xs else float("nan")


class Suite:
    """The running processes and handles on them."""

    def __init__(self, cfg: SuiteConfig, sup: Supervisor) -> None:
        self.cfg = cfg
        self.sup = sup
        # one client for every scrape: httpx.get() builds a client, and its SSL context, per call (about 19 ms of
        # the bench's CPU each), which the throughput phase's 20 scrapes a second took from the suite it measures
        self.http = httpx.Client(timeout=5)

    def procs(self) -> dict[str, psutil.Process]:
        return {c.spec.name: psutil.Process(c.proc.pid) for c in self.sup.children if c.proc is not None}

    def rss_mb(self) -> dict[str, float]:
        out = {}
        for name, p in self.procs().items():
            try:
                family = [p, *p.children(recursive=True)]
                out[name] = sum(x.memory_info().rss for x in family) / 2**20
            except psutil.NoSuchProcess:
                out[name] = float("nan")
        return out

    def rss_detail(self) -> dict[str, dict[str, float]]:
        """Per process family (MB): anonymous and file-backed RSS, PSS and USS (RSS counts a shared library's pages
        in every process that maps it; PSS splits them between those processes, USS leaves them out), threads."""
        out = {}
        for name, p in self.procs().items():
            d = {"anon": 0.0, "file": 0.0, "pss": 0.0, "uss": 0.0, "threads": 0.0}
            try:
                for x in [p, *p.children(recursive=True)]:
                    status = dict(line.split(":", 1) for line in Path(f"/proc/{x.pid}/status").read_text().splitlines())
                    d["anon"] += int(status["RssAnon"].split()[0]) / 1024
                    d["file"] += int(status["RssFile"].split()[0]) / 1024
                    d["threads"] += int(status["Threads"])
                    full = x.memory_full_info()
                    d["pss"] += full.pss / 2**20
                    d["uss"] += full.uss / 2**20
            except (psutil.NoSuchProcess, psutil.AccessDenied, OSError, KeyError):
                continue
            out[name] = d
        return out

    def metrics(self, only: tuple[str, ...] = ()) -> dict[str, str]:
        """``/metrics`` of every service (or of those named in ``only``)."""
        out = {}
        for name, port_name in SERVICE_PORTS.items():
            if only and name not in only:
                continue
            port = getattr(self.cfg.ports, port_name)
            try:
                out[name] = self.http.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.HTTPError:
                out[name] = ""
        return out


def hop_report(before: dict[str, str], after: dict[str, str]) -> str:
    parts = []
    for name, text in after.items():
        old = hop_histograms(before.get(name, ""))
        for hop, h in sorted(hop_histograms(text).items()):
            d: HopHistogram = h.minus(old.get(hop))
            p50, p99 = d.quantile(0.5), d.quantile(0.99)
            if d.count and p50 is not None and p99 is not None:
                parts.append(f"{hop} n={d.count:g} p50 {p50 * 1e3:.2f} p99 {p99 * 1e3:.2f} ms")
    return "; ".join(parts)


def counters(texts: dict[str, str]) -> dict[str, float]:
    """Dead letters, sync drops, features' events in: what overload may cost."""
    feats = texts.get("edgewatch-features", "")
    sync = texts.get("edgewatch-sync", "")
    return {
        "dead_letters": sum(counter_sum(t, "edgewatch_bus_dead_letters") for t in texts.values()),
        "sync_dropped": counter_sum(sync, "edgewatch_sync_dropped_messages"),
        "features_events_in": counter_sum(feats, "edgewatch_bus_messages_in"),
    }


async def latency_phase(
    suite: Suite, ds: DeviceService, rate: float, seconds: float, label: str, floor: RelayFloor | None = None
) -> tuple[list[float], dict[str, Any]]:
    """Publish at ``rate`` for ``seconds`` (after a 2 s warm-up); the SET latencies measured and what it cost.
    With ``floor``, its relay chain is pinged at the crossings' cadence during the measured seconds."""
    ds.latencies, ds.unmatched, ds.published = [], 0, {}
    warm = 2.0
    events = make_events(int(rate * (warm + seconds + 1)), rate)
    stop = asyncio.Event()
    l0 = load()
    ds.measuring = False
    pub = asyncio.create_task(ds.publish(events, rate, stop))
    await asyncio.sleep(warm)
    procs = suite.procs()
    procs["bench"] = psutil.Process()
    cpu0 = {n: sum(p.cpu_times()[:2]) for n, p in procs.items()}
    m0 = await asyncio.to_thread(suite.metrics)
    ds.measuring = True
    w0 = time.perf_counter()
    pinging = asyncio.Event()
    pinger = asyncio.create_task(floor.ping(ds.bus, 25 / rate, pinging)) if floor is not None else None
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - w0
    pinging.set()
    stop.set()
    sent = await pub
    if pinger is not None:
        await pinger
    cpu = {}
    for n, p in procs.items():
        try:
            cpu[n] = 100 * (sum(p.cpu_times()[:2]) - cpu0[n]) / wall
        except psutil.NoSuchProcess:
            cpu[n] = float("nan")
    for _ in range(300):  # let the last SETs arrive
        if not ds.published:
            break
        await asyncio.sleep(0.01)
    ds.measuring = False
    m1 = await asyncio.to_thread(suite.metrics)
    c0, c1 = counters(m0), counters(m1)
    xs = ds.latencies
    print(
        f"[{label}] {rate:g} events/s for {seconds:g} s ({sent} events sent): {len(xs)} commands timed, "
        f"{len(ds.published)} crossings without a SET, {ds.unmatched} SETs without a crossing; "
        f"load average {l0} -> {load()}"
    )
    if xs:
        print(
            f"[{label}] reading -> SET at the device service: p50 {pct(xs, 50):.2f} ms, p90 {pct(xs, 90):.2f}, "
            f"p99 {pct(xs, 99):.2f}, max {max(xs) * 1e3:.2f}"
        )
    if floor is not None and floor.latencies and xs:
        fl = floor.latencies
        print(
            f"[{label}] floor, {floor.relays} bare nats-py relay(s) in a chain under the same load ({len(fl)} pings): "
            f"p50 "
            f"{pct(fl, 50):.2f} ms, p90 {pct(fl, 90):.2f}, p99 {pct(fl, 99):.2f}; the SET's p50 is "
            f"{pct(xs, 50) / pct(fl, 50):.2f}x the floor's"
        )
    print(f"[{label}] CPU (% of one core): " + ", ".join(f"{n} {c:.0f}%" for n, c in cpu.items()))
    print(f"[{label}] hops: {hop_report(m0, m1)}")
    print(
        f"[{label}] during the phase: dead letters +{c1['dead_letters'] - c0['dead_letters']:g}, sync drops "
        f"+{c1['sync_dropped'] - c0['sync_dropped']:g}"
    )
    return xs, {"sent": sent, "missing": len(ds.published)}


def cpu_seconds(procs: dict[str, psutil.Process]) -> dict[str, float]:
    """User + system CPU seconds of each process with its children (those that ended are left out).

    Children count: sync's batch encoder runs in a worker process of edgewatch-background during a burst, the
    receiver decodes in one of its own. A live child's time is read from the child, a reaped child's from its
    parent's ``children_*`` times. The bench's own children are the suite's processes, listed on their own.
    """
    out = {}
    for n, p in procs.items():
        try:
            t = p.cpu_times()
            if p.pid == os.getpid():  # the bench: its children are the suite, counted on their own
                out[n] = t.user + t.system
                continue
            total = t.user + t.system + t.children_user + t.children_system
            for c in p.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += sum(c.cpu_times()[:2])
            out[n] = total
        except psutil.NoSuchProcess:
            pass
    return out


async def gateway_idle(procs: dict[str, psutil.Process], timeout: float = 60.0) -> float:
    """Wait until the suite's processes use under 30 % of one core together over 0.5 s (the rest of the gateway
    has consumed the burst, so the raw lane does not share the CPU with its backlog); returns the seconds waited."""
    t0 = time.perf_counter()
    suite = {n: p for n, p in procs.items() if n != "bench"}
    while time.perf_counter() - t0 < timeout:
        c0 = cpu_seconds(suite)
        await asyncio.sleep(0.5)
        c1 = cpu_seconds(suite)
        if sum(c1[n] - c0[n] for n in c1 if n in c0) < 0.15:
            break
    return time.perf_counter() - t0


async def throughput_phase(suite: Suite, bus: NatsBus, burst: int) -> float:
    """Events -> features -> scores as fast as the pipeline goes, against raw nats-py pub -> sub of the same bytes.

    The pipeline is done with the burst when features has taken every event and inference every vector features
    published since (read from their /metrics: features' alone until it has taken the burst, at the times
    :func:`poll_delay` gives, then both).
    """
    events = make_events(burst, 20_000.0)
    f_in0, f_out0, i_in0, i_out0 = pipeline_counts(await asyncio.to_thread(suite.metrics, PIPELINE))
    l0 = load()
    procs = suite.procs()
    procs["bench"] = psutil.Process()
    cpu0 = cpu_seconds(procs)
    nc = bus.nc
    t0_wall, t0 = time.time(), time.perf_counter()
    for i, (subject, body, headers, _) in enumerate(events):
        await nc.publish(subject, body, headers=headers)
        if i % 500 == 499:
            await asyncio.sleep(0)  # let the client's flusher write
    await nc.flush()
    t_pub = time.perf_counter() - t0
    counts = (0.0, 0.0, 0.0, 0.0)
    t_end = t_polled = float("nan")
    t_stamped: float | None = None
    deadline = time.monotonic() + 180
    polls = 0
    only: tuple[str, ...] = PIPELINE[:1]  # features alone until it has taken the burst, then both
    last = (0.0, 0.0, 0.0, 0.0)
    while time.monotonic() < deadline:
        texts = await asyncio.to_thread(suite.metrics, only)
        polls += 1
        f_in, f_out, i_in, i_out = pipeline_counts(texts)
        counts = (f_in - f_in0, f_out - f_out0, *((i_in - i_in0, i_out - i_out0) if len(only) > 1 else last[2:]))
        last = counts
        if counts[0] >= burst:
            if len(only) > 1:
                if counts[2] >= counts[1]:
                    t_polled = time.perf_counter() - t0
                    t_stamped = stamped_end(texts, t0_wall)
                    t_end = t_polled if t_stamped is None else min(t_stamped, t_polled)
                    break
                await asyncio.sleep(0.01)  # inference is still scoring the last vectors
            only = PIPELINE
            continue
        await asyncio.sleep(poll_delay(counts[0], burst, time.perf_counter() - t0))
    pipeline = burst / t_end if t_end == t_end else 0.0
    if t_end == t_end:
        print(
            f"[throughput] end: {t_end:.3f} s by the services' last-handled stamps "
            f"(the poll that found them done: {t_polled:.3f} s)"
            if t_stamped is not None
            else f"[throughput] end: {t_end:.3f} s by the poll (no last-handled stamps)"
        )
    cpu1 = cpu_seconds(procs)
    print(
        f"[throughput] {burst} events published in {t_pub:.2f} s ({polls} polls of /metrics); "
        f"features took {counts[0]:g} events and "
        f"published {counts[1]:g} vectors, inference took {counts[2]:g} and published {counts[3]:g} scores, "
        f"{t_end:.2f} s after the first event: {pipeline:.0f} events/s through the pipeline; "
        f"load average {l0} -> {load()}"
    )
    if t_end == t_end:
        print(
            "[throughput] CPU until then (% of one core): "
            + ", ".join(f"{n} {100 * (cpu1[n] - cpu0[n]) / t_end:.0f}%" for n in procs if n in cpu0 and n in cpu1)
        )
    print(f"[throughput] the rest of the gateway was done {await gateway_idle(procs):.1f} s later")
    cpu2 = cpu_seconds(procs)
    work = {n: (cpu2[n] - cpu0[n]) / burst * 1e6 for n in procs if n in cpu0 and n in cpu2}
    print(  # CPU time per event changes far less with the machine's load than rates do
        f"[throughput] CPU per event until the gateway was idle (us, {sum(work.values()):.0f} in all): "
        + ", ".join(f"{n} {w:.0f}" for n, w in work.items())
    )
    raw = await raw_nats(suite.cfg, events)
    print(f"[throughput] raw nats-py pub -> sub of the same {burst} events: {raw:.0f} msgs/s")
    return pipeline / raw if raw else 0.0


async def throughput_rounds(
    suite: Suite, ds: DeviceService, bus: NatsBus, args: argparse.Namespace, results: list[str]
) -> None:
    """``--throughput-only``: 2 s of events at 1,000/s (windows and caches warm, as after phase 2), then
    ``--rounds`` throughput phases 3 s apart; one RESULT line per round."""
    await ds.publish(make_events(2000, 1000.0), 1000.0, asyncio.Event())
    await asyncio.sleep(3)
    for _ in range(args.rounds):
        ratio = await throughput_phase(suite, bus, args.burst)
        results.append(f"RESULT pipeline_vs_raw_nats {ratio:.3f} ratio (goal >= 0.3)")
        await asyncio.sleep(3)


async def all_phases(
    suite: Suite, ds: DeviceService, bus: NatsBus, args: argparse.Namespace, t_up: float, results: list[str]
) -> None:
    """Phases 1-4 in order (see the module docstring)."""
    await asyncio.sleep(max(0.0, args.rss_at - (time.monotonic() - t_up)))
    rss = suite.rss_mb()
    gateway = {n: v for n, v in rss.items() if n not in NOT_GATEWAY}
    total = sum(gateway.values())
    print(
        f"RSS {time.monotonic() - t_up:.0f} s after the suite was up (MB): "
        + ", ".join(f"{n} {v:.1f}" for n, v in sorted(rss.items(), key=lambda x: -x[1]))
    )
    results.append(f"RESULT suite_rss_mb {total:.0f} MB (goal <= 400)")
    if args.rss_only:
        details = suite.rss_detail()
        for n, d in details.items():
            print(
                f"  {n}: anon {d['anon']:.1f} file {d['file']:.1f} pss {d['pss']:.1f} uss {d['uss']:.1f} MB, "
                f"{d['threads']:.0f} threads"
            )
        pss = sum(d["pss"] for n, d in details.items() if n in gateway)
        print(f"gateway PSS (shared pages split between the processes that map them): {pss:.0f} MB")
        return
    rules_spec = suite.sup.child("edgewatch-rules").spec  # the floor's relay runs in rules' class
    floor = RelayFloor(
        suite.cfg, suite.cfg.actuation_slice_us, args.floor_relays, rules_spec.rt_priority, rules_spec.rt_cpus
    )
    await floor.start(bus)
    try:
        xs, _ = await latency_phase(suite, ds, args.rate, args.seconds, "latency", floor)
    finally:
        await floor.stop()
    kind = "e2e_compound" if args.compound else "e2e"
    results.append(f"RESULT {kind}_reading_to_command_p99_ms {pct(xs, 99):.2f} ms (goal <= 10)")
    results.append(f"RESULT {kind}_reading_to_command_p50_ms {pct(xs, 50):.2f} ms (goal <= 2)")
    ratios = []
    for _ in range(args.bursts):
        ratios.append(await throughput_phase(suite, bus, args.burst))
        await asyncio.sleep(3)  # let the backlog of the burst drain before the next burst or the overload phase
    print(f"[throughput] ratio of each burst: {', '.join(f'{r:.3f}' for r in ratios)}; the median is the RESULT")
    results.append(f"RESULT pipeline_vs_raw_nats {float(np.median(ratios)):.3f} ratio (goal >= 0.3)")
    ys, _ = await latency_phase(suite, ds, args.overload_rate, args.overload_seconds, "overload")
    results.append(f"RESULT {kind}_overload_p99_ms {pct(ys, 99):.2f} ms (goal <= 50)")


async def run(args: argparse.Namespace) -> None:
    print(f"e2e bench: load average {load()}, {os.cpu_count()} CPUs; quick={args.quick}")
    with tempfile.TemporaryDirectory(prefix="edgewatch-bench-e2e-") as tmp:
        cfg = SuiteConfig(Path(tmp), Ports.free(), demo=True, auth=True, log_level="WARNING")
        if args.actuation_slice_us is not None:
            cfg.actuation_slice_us = args.actuation_slice_us
        if args.actuation_rt_priority is not None:
            cfg.actuation_rt_priority = args.actuation_rt_priority
        cfg.background_batch = not args.no_background_batch
        cfg.background_cpus = args.background_cpus
        cfg.group_background = not args.background_apart
        if args.background_nice is not None:
            cfg.background_nice = args.background_nice
        if args.analytics_nice is not None:
            cfg.analytics_nice = args.analytics_nice
        if args.nats_gogc is not None:
            cfg.nats_gogc = args.nats_gogc
        print(
            f"scheduling: actuation slice {cfg.actuation_slice_us} us, real-time priority "
            f"{cfg.actuation_rt_priority or 'none'}, background batch {cfg.background_batch}, "
            f"background CPUs {sorted(background_cpus(cfg.background_cpus) or []) or 'all'} "
            f"of {sorted(os.sched_getaffinity(0))}, nice: background {cfg.background_nice}, analytics "
            f"{cfg.analytics_nice}, {'grouped' if cfg.group_background else 'apart'}; nats-server GOGC "
            f"{cfg.nats_gogc or 'Go default'}"
        )
        (cfg.run_dir / "ports.json").write_text(json.dumps(cfg.ports.as_dict()))
        sup = Supervisor(build_specs(cfg), cfg.logs_dir, cfg.run_dir / "state.json")
        t_start = time.monotonic()
        try:
            await sup.start(ready_timeout=120)
        except Exception:
            await sup.stop()
            print_log_tails(cfg.logs_dir)  # the temporary directory goes with this run
            raise
        t_up = time.monotonic()
        print(f"suite up in {t_up - t_start:.1f} s; {sched_taken(sup)}")
        suite = Suite(cfg, sup)
        bus, meta, rules = await gateway_clients(cfg)
        results: list[str] = []
        try:
            ds = DeviceService(bus)
            await bus.subscribe(topics.device_command_request_all(DS), ds.on_command)
            await register(meta, rules, args.compound)
            print(f"rule: {'compound, 3 leaves' if args.compound else 'one leaf'}")
            if args.throughput_only:
                await throughput_rounds(suite, ds, bus, args, results)
            else:
                await all_phases(suite, ds, bus, args, t_up, results)
            restarts = {c.spec.name: c.restarts for c in sup.children if c.restarts}
            print(f"restarts during the run: {restarts or 'none'}")
        finally:
            await meta.aclose()
            await rules.aclose()
            await bus.drain()
            await sup.stop()
            suite.http.close()
        for line in results:
            print(line)
        if args.rss_only:
            print("(--rss-only: the latency and throughput phases were not run)")
        if args.quick and not args.throughput_only:
            print(f"(quick run: RSS at {args.rss_at:g} s, {args.seconds:g} s latency phases; not the goal's figures)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="a short run of everything (about a minute)")
    ap.add_argument("--rate", type=float, default=1000.0, help="events/s of the latency phase")
    ap.add_argument("--seconds", type=float, default=None, help="seconds of the latency phase (30; quick 8)")
    ap.add_argument("--overload-rate", type=float, default=2000.0, help="events/s of the overload phase")
    ap.add_argument("--overload-seconds", type=float, default=None, help="seconds of the overload phase (20; 6)")
    ap.add_argument("--burst", type=int, default=None, help="events of the throughput phase (20000; quick 5000)")
    ap.add_argument("--bursts", type=int, default=None, help="bursts of the throughput phase, median (3; quick 1)")
    ap.add_argument("--throughput-only", action="store_true", help="only phase 3 (after a 2 s warm-up at 1,000/s)")
    ap.add_argument("--rounds", type=int, default=1, help="throughput phases of --throughput-only (1)")
    ap.add_argument("--rss-at", type=float, default=None, help="seconds after start to read RSS (60; quick 30)")
    ap.add_argument("--rss-only", action="store_true", help="stop after the RSS figure (no load phases)")
    ap.add_argument("--actuation-slice-us", type=int, default=None, help="as edgewatch up's (0: the kernel's)")
    ap.add_argument("--actuation-rt-priority", type=int, default=None, help="as edgewatch up's (0: none)")
    ap.add_argument("--no-background-batch", action="store_true", help="as edgewatch up's")
    ap.add_argument("--floor-relays", type=int, choices=(1, 2), default=1, help="relays of the floor's chain (1)")
    ap.add_argument("--compound", action="store_true", help="a 3-leaf compound rule instead of the one-leaf rule")
    ap.add_argument("--background-cpus", default="auto", help="as edgewatch up's (auto, all or a CPU list)")
    ap.add_argument("--background-apart", action="store_true", help="as edgewatch up's (one process per service)")
    ap.add_argument("--background-nice", type=int, default=None, help="as edgewatch up's")
    ap.add_argument("--analytics-nice", type=int, default=None, help="as edgewatch up's")
    ap.add_argument("--nats-gogc", type=int, default=None, help="GOGC of nats-server (SuiteConfig.nats_gogc; 0: Go's)")
    args = ap.parse_args()
    q = args.quick
    args.seconds = args.seconds if args.seconds is not None else (8.0 if q else 30.0)
    args.overload_seconds = args.overload_seconds if args.overload_seconds is not None else (6.0 if q else 20.0)
    args.burst = args.burst if args.burst is not None else (5000 if q else 20000)
    args.bursts = args.bursts if args.bursts is not None else (1 if q else 3)
    args.rss_at = args.rss_at if args.rss_at is not None else (30.0 if q else 60.0)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
