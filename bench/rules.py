"""edgewatch-rules benchmarks, one run: evaluation throughput, compound vs single-condition cost per sample, and the
reading -> command latency through real processes with single and compound rules.

1. Throughput (``rules_vs_bare_loop``): rule evaluations/s through edgewatch-rules' path vs a bare Python loop
   over the same score messages.

Workload: 10 rules watch the score of one device (thresholds spread out, some with hysteresis, debounce counts,
a 5-sample mean window and a 10-sample max window); 20 000 Score messages whose values mostly stay normal and
now and then cross a threshold, as real scores do. One message = 10 rule evaluations.

Rules path (what ``RulesMessaging.on_score`` does per message, minus the socket and the actuator's I/O):
``decode_score`` (msgpack + pydantic validation of the Score contract) and ``RuleEngine.on_sample`` (index
lookup, per-device state, window aggregate, hysteresis/debounce state machine, decisions).

Bare loop (the floor): ``msgpack.unpackb`` of the same bytes, then per rule ``value > threshold`` with a
consecutive counter: no validation, no windows, no hysteresis, no state objects.

Sides run interleaved in short rounds; the ratio is the median of per-round ratios.

2. Cost per sample (``rules_compound_vs_single_cost``): ``RuleEngine.on_sample`` for a stream of EdgeX reading
   samples (Current, Vibration, PumpStop of 10 pumps, one event's three readings after another) against one
   single-condition rule (Current above 12 A, clear at 11) and against one 3-leaf compound rule (that same leaf,
   Vibration above 5 mm/s with hysteresis, not PumpStop), interleaved in rounds; the ratio is the median of
   per-round ratios of time per sample over the same stream (the single rule skips the two readings it does not
   watch; per watched sample and with the EdgeX event decode in front, what ``on_event`` pays, are printed too).

3. Latency (``rules_*_reading_to_command_*``): nats-server, core and rules run as the processes ``edgewatch up``
   starts (same argv, env, auth on). The bench registers a device service ``bench-ds`` with core-metadata and
   answers its command requests on the bus itself, timing each SET on arrival. It publishes EdgeX events
   (``nats`` format, 3 readings each) at 1 000 events/s for 10 background pumps (never firing) and a ``trip``
   pump whose every 25th event alternately crosses (the rule fires, SET PumpStop through core-command) and
   clears. Latency = SET arrival at the device service - publish of the crossing event, both in this process.
   The rule alternates between the single-condition and the compound form (PUT, same name) in rounds, so both
   see the same machine. The hop rules -> core-command is timed too (the SET request seen on the bus).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import httpx
import msgpack
import numpy as np
import psutil
from nats.aio.msg import Msg

from benchds import register_device_service
from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope, encode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import decode_add_event, encode_add_event
from edgewatch.common.contracts.score import Score, decode_score, encode_score
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import MessageBusSection
from edgewatch.rules.engine import RuleEngine
from edgewatch.rules.rule import Rule
from edgewatch.rules.samples import event_readings
from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.services import build_specs
from edgewatch.suite.supervisor import Supervisor

MESSAGES = 20_000
ROUNDS = 11
CHUNK = 2_000


def rules() -> list[Rule]:
    out = []
    for i in range(10):
        doc: dict[str, object] = {
            "name": f"r{i}",
            "source": {"kind": "score", "device": "pump-1" if i % 2 else "*"},
            "condition": {"comparator": ">", "threshold": 4.0 + i, "clearThreshold": 2.0 + i if i % 3 else None},
            "debounce": {"count": 1 + i % 3},
        }
        if i == 4:
            doc["window"] = {"aggregate": "mean", "samples": 5}
        if i == 7:
            doc["window"] = {"aggregate": "max", "samples": 10}
        out.append(Rule.model_validate(doc))
    return out


def messages() -> list[bytes]:
    rng = np.random.default_rng(2)
    values = np.abs(rng.normal(2.0, 2.5, MESSAGES))
    out = []
    for i, v in enumerate(values.tolist()):
        t = 1_700_000_000_000_000_000 + i * 1_000_000_000
        s = Score(
            device="pump-1",
            profile="demo-pump",
            model_name="auto.pump-1",
            model_version="1",
            model_sha256="ab" * 32,
            score=v,
            threshold=8.0,
            is_anomaly=v > 8.0,
            window_start=t - 1_000_000_000,
            window_end=t,
            feature_config_version="1",
            origin=t,
            contributions={"Vibration.mean": v * 0.6, "Vibration.max": v * 0.3},
            sequence=i,
        )
        out.append(encode_score(s))
    return out


def throughput() -> None:
    engine = RuleEngine()
    for r in rules():
        engine.add(r)
    thresholds = [float(r.condition.threshold or 0.0) for r in rules()]
    msgs = messages()
    evaluations_per_msg = len(thresholds)
    decisions = 0

    def rules_path(chunk: list[bytes]) -> None:
        nonlocal decisions
        for data in chunk:
            s = decode_score(data)
            decisions += len(engine.on_sample("score", s.device, "", s.score, s.window_end or s.origin))

    counts = [0] * len(thresholds)

    def bare(chunk: list[bytes]) -> None:
        for data in chunk:
            v = msgpack.unpackb(data)["score"]
            for j, thr in enumerate(thresholds):
                counts[j] = counts[j] + 1 if v > thr else 0

    ratios, t_rules, t_bare = [], [], []
    gc.disable()
    try:
        for _ in range(ROUNDS):
            for k in range(0, len(msgs), CHUNK):
                chunk = msgs[k : k + CHUNK]
                s0 = time.perf_counter()
                rules_path(chunk)
                s1 = time.perf_counter()
                bare(chunk)
                s2 = time.perf_counter()
                ratios.append((s2 - s1) / (s1 - s0))
                t_rules.append((s1 - s0) / len(chunk))
                t_bare.append((s2 - s1) / len(chunk))
    finally:
        gc.enable()
    rules_rate = evaluations_per_msg / min(t_rules)
    bare_rate = evaluations_per_msg / min(t_bare)
    print(f"rules path: {min(t_rules) * 1e6:7.2f} us/message, {rules_rate:10.0f} rule evaluations/s")
    print(f"bare loop:  {min(t_bare) * 1e6:7.2f} us/message, {bare_rate:10.0f} rule evaluations/s")
    print(f"decisions (raises + clears) in the rules path: {decisions}")
    print(f"RESULT rules_vs_bare_loop {statistics.median(ratios):.3f} ratio (goal >= 0.2)")
    print(f"RESULT rules_evaluations_per_s {rules_rate:.0f} evaluations/s (goal >= 150000)")


# --- 2. compound vs single-condition cost per sample ------------------------------------------------------------

PUMP = "bench-pump"
BG = [f"bg-{i}" for i in range(10)]
TRIP = "trip"
CURRENT_LEAF: dict[str, Any] = {
    "source": {"kind": "reading", "device": "*", "name": "Current"},
    "comparator": ">",
    "threshold": 12.0,
    "clearThreshold": 11.0,
}
ACTION = {"command": "PumpStop", "settings": {"PumpStop": "true"}}


def single_rule(name: str = "bench-trip") -> dict[str, Any]:
    leaf = {k: v for k, v in CURRENT_LEAF.items() if k in ("comparator", "threshold", "clearThreshold")}
    return {
        "name": name,
        "source": CURRENT_LEAF["source"],
        "condition": leaf,
        "actions": [ACTION],
    }


def compound_rule(name: str = "bench-trip") -> dict[str, Any]:
    vib = {
        "source": {"kind": "reading", "device": "*", "name": "Vibration"},
        "comparator": ">",
        "threshold": 5.0,
        "clearThreshold": 4.0,
    }
    stop = {"source": {"kind": "reading", "device": "*", "name": "PumpStop"}, "comparator": ">", "threshold": 0.5}
    return {
        "name": name,
        "condition": {"all": [CURRENT_LEAF, vib, {"not": stop}]},
        "actions": [ACTION],
    }


def event_bytes(device: str, current: float, vibration: float, origin: int) -> tuple[bytes, dict[str, str]]:
    readings = [
        Reading.simple(device, PUMP, "Current", "Float32", current, origin=origin),
        Reading.simple(device, PUMP, "Vibration", "Float32", vibration, origin=origin),
        Reading.simple(device, PUMP, "PumpStop", "Bool", False, origin=origin),
    ]
    ev = new_event(device, PUMP, "all", readings, origin=origin)
    return encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(ev))), "nats")


def cost() -> None:
    rng = np.random.default_rng(5)
    n_events = 4_000
    events = []
    samples: list[tuple[str, str, float, int]] = []
    for i in range(n_events):
        dev = BG[i % len(BG)]
        cur, vib = 10.0 + rng.normal(0, 0.5), 2.0 + rng.normal(0, 0.3)
        if i % 97 < 6:  # now and then a pump crosses, so transitions are part of the cost
            cur, vib = 14.0, 7.0
        t = 1_700_000_000_000_000_000 + i * 1_000_000
        body, _ = event_bytes(dev, cur, vib, t)
        events.append(body)
        samples += [(dev, "Current", cur, t), (dev, "Vibration", vib, t), (dev, "PumpStop", 0.0, t)]
    names = frozenset({"Current", "Vibration", "PumpStop"})

    def engine_of(doc: dict[str, Any]) -> RuleEngine:
        e = RuleEngine()
        e.add(Rule.model_validate(doc))
        return e

    def engine_only(engine: RuleEngine) -> float:
        s0 = time.perf_counter()
        for dev, name, v, t in samples:
            engine.on_sample("reading", dev, name, v, t)
        return (time.perf_counter() - s0) / len(samples)

    def with_decode(engine: RuleEngine) -> float:
        s0 = time.perf_counter()
        for body in events:
            ev = decode_add_event(body).event
            for resource, value, t in event_readings(ev, names):
                engine.on_sample("reading", ev.device_name, resource, value, t)
        return (time.perf_counter() - s0) / (3 * len(events))

    single, compound = engine_of(single_rule()), engine_of(compound_rule())
    currents = [x for x in samples if x[1] == "Current"]

    def watched(engine: RuleEngine, stream: list[tuple[str, str, float, int]]) -> float:
        s0 = time.perf_counter()
        for dev, name, v, t in stream:
            engine.on_sample("reading", dev, name, v, t)
        return (time.perf_counter() - s0) / len(stream)

    ratios, ratios_dec, t_single, t_compound, d_single, d_compound, w_single = [], [], [], [], [], [], []
    gc.disable()
    try:
        for _ in range(9):
            a, b = engine_only(single), engine_only(compound)
            ratios.append(b / a)
            t_single.append(a)
            t_compound.append(b)
            c, d = with_decode(single), with_decode(compound)
            ratios_dec.append(d / c)
            d_single.append(c)
            d_compound.append(d)
            w_single.append(watched(single, currents))
    finally:
        gc.enable()
    us = 1e6
    print(
        f"same stream (3 readings per event): single-condition rule {min(t_single) * us:.2f} us/sample, "
        f"3-leaf compound rule {min(t_compound) * us:.2f} us/sample"
    )
    print(
        f"per sample the rule watches: single {min(w_single) * us:.2f} us (Current only), "
        f"compound {min(t_compound) * us:.2f} us ({min(t_compound) / min(w_single):.2f}x)"
    )
    print(
        f"with the EdgeX event decode in front: single {min(d_single) * us:.2f} us/sample, compound "
        f"{min(d_compound) * us:.2f} us/sample ({statistics.median(ratios_dec):.2f}x)"
    )
    print(f"RESULT rules_compound_vs_single_cost {statistics.median(ratios):.2f} x (goal <= 3)")


# --- 3. reading -> command latency through real processes --------------------------------------------------------

PROFILE = {
    "name": PUMP,
    "manufacturer": "edgewatch",
    "model": "bench",
    "deviceResources": [
        {"name": "Current", "properties": {"valueType": "Float32", "readWrite": "R"}},
        {"name": "Vibration", "properties": {"valueType": "Float32", "readWrite": "R"}},
        {"name": "PumpStop", "properties": {"valueType": "Bool", "readWrite": "RW"}},
    ],
}
RATE = 1_000  # events/s
TICK = 0.01  # publish in 10 ms ticks (10 events each)
TRIGGER_EVERY = 25  # events: every 25th event the trip pump crosses or clears (20/s: 10 fires/s)


class LatencyRun:
    """Publisher, device-service responder and taps of one latency run against the running processes.

    Each crossing yields exactly one SET, in order (the actuator keeps a device's decisions in order), so SETs
    and rules' requests are matched to crossings first in, first out.
    """

    def __init__(self, bus: NatsBus) -> None:
        self.bus = bus
        self.variant = ""
        self.round = 0
        self.seq = 0
        self.pending: deque[tuple[int, str, int, float]] = deque()  # crossings awaiting their SET
        self.pending_core: deque[int] = deque()  # ... awaiting rules' request to core-command
        self.at_core: dict[int, float] = {}
        # per crossing: (variant, round, reading -> SET, reading -> rules' request, rules' request -> SET), seconds
        self.samples: list[tuple[str, int, float, float, float]] = []
        self.stop = False

    async def on_set(self, msg: Msg) -> None:
        now = time.perf_counter()
        env = decode_envelope(msg)
        if self.pending and msg.subject.endswith(f".{TRIP}.PumpStop.set"):
            k, variant, rnd, t0 = self.pending.popleft()
            at_core = self.at_core.pop(k, now)
            self.samples.append((variant, rnd, now - t0, at_core - t0, now - at_core))
        await edgex_respond(self.bus, env, responder="bench-ds")

    async def on_core_request(self, msg: Msg) -> None:
        now = time.perf_counter()
        if self.pending_core:
            self.at_core[self.pending_core.popleft()] = now

    def crossing(self) -> None:
        self.seq += 1
        self.pending.append((self.seq, self.variant, self.round, time.perf_counter()))
        self.pending_core.append(self.seq)

    def of(self, variant: str, column: int, rnd: int | None = None) -> list[float]:
        return [x[column] for x in self.samples if x[0] == variant and (rnd is None or x[1] == rnd)]

    async def publish(self, events: list[tuple[str, bytes, dict[str, str], bool]]) -> None:
        """Send pre-encoded events at RATE in TICK bursts; a crossing trip event starts a latency sample."""
        loop = asyncio.get_running_loop()
        per_tick = int(RATE * TICK)
        nc = self.bus.nc
        next_tick = loop.time()
        for k in range(0, len(events), per_tick):
            if self.stop:
                return
            for subject, body, headers, crossing in events[k : k + per_tick]:
                if crossing and self.variant:
                    self.crossing()
                await nc.publish(subject, body, headers=headers)
            next_tick += TICK
            await asyncio.sleep(max(0.0, next_tick - loop.time()))


def _events(n: int) -> list[tuple[str, bytes, dict[str, str], bool]]:
    """``n`` distinct EdgeX events (core-data keeps them all): background pumps, and every TRIGGER_EVERY-th the
    trip pump, alternately crossing (Current 14 A, Vibration 7 mm/s) and clearing."""
    rng = np.random.default_rng(9)
    out = []
    t0 = time.time_ns()
    crossing = True
    for i in range(n):
        origin = t0 + i * 1_000_000
        if i % TRIGGER_EVERY == 0:
            cur, vib = (14.0, 7.0) if crossing else (9.0, 2.0)
            body, headers = event_bytes(TRIP, cur, vib, origin)
            out.append((topics.device_event("bench-ds", PUMP, TRIP, "all"), body, headers, crossing))
            crossing = not crossing
        else:
            dev = BG[i % len(BG)]
            body, headers = event_bytes(dev, 10.0 + rng.normal(0, 0.3), 2.0 + rng.normal(0, 0.2), origin)
            out.append((topics.device_event("bench-ds", PUMP, dev, "all"), body, headers, False))
    return out


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q)) * 1e3


async def latency(seconds_per_round: float, rounds: int) -> None:
    load0 = f"{os.getloadavg()[0]:.2f}"  # the machine is shared: say how busy it was
    warmup, settle = 2.0, 0.5
    events = _events(int(RATE * (warmup + rounds * 2 * (seconds_per_round + settle) + 5)))
    with tempfile.TemporaryDirectory(prefix="edgewatch-bench-rules-") as tmp:
        cfg = SuiteConfig(Path(tmp), Ports.free(), demo=False, auth=True, log_level="WARNING", group_background=False)
        wanted = {"nats-server", "edgewatch-core", "edgewatch-core-command", "edgewatch-rules"}
        specs = [s for s in build_specs(cfg) if s.name in wanted]
        sup = Supervisor(specs, cfg.logs_dir, cfg.run_dir / "state.json")
        await sup.start(ready_timeout=90)
        token = {"Authorization": f"Bearer {cfg.secret('api-token')}"}
        user, password = cfg.nats_credentials("admin")
        bus_cfg = MessageBusSection(host="127.0.0.1", port=cfg.ports.nats, user=user, password=password)
        bus = NatsBus(bus_cfg, "bench-ds", ServiceMetrics("bench-ds"))
        await bus.connect()
        meta = httpx.AsyncClient(base_url=f"http://127.0.0.1:{cfg.ports.core_metadata}/api/v3", headers=token)
        rules = httpx.AsyncClient(base_url=f"http://127.0.0.1:{cfg.ports.rules}/api/v3", headers=token)
        run = LatencyRun(bus)
        try:
            await register_device_service(meta, "bench-ds", PROFILE, [TRIP, *BG])
            await bus.subscribe(topics.device_command_request_all("bench-ds"), run.on_set)
            await bus.subscribe(topics.command_request(TRIP, "PumpStop", "set"), run.on_core_request)
            r = await rules.post("/rule", json=single_rule())
            r.raise_for_status()
            publisher = asyncio.create_task(run.publish(events))
            await asyncio.sleep(warmup)  # warm-up: processes, caches, subscriptions
            procs = {c.spec.name: psutil.Process(c.proc.pid) for c in sup.children if c.proc is not None}
            procs["bench"] = psutil.Process()
            cpu0 = {n: p.cpu_times() for n, p in procs.items()}
            w0 = time.perf_counter()
            unanswered = 0
            for rnd in range(rounds):
                for variant, doc in (("single", single_rule()), ("compound", compound_rule())):
                    run.variant = ""  # let the last crossings' SETs arrive, then switch the rule
                    for _ in range(500):
                        if not run.pending:
                            break
                        await asyncio.sleep(0.01)
                    unanswered += len(run.pending)
                    run.pending.clear()
                    run.pending_core.clear()
                    r = await rules.put("/rule/name/bench-trip", json=doc)
                    r.raise_for_status()
                    await asyncio.sleep(settle)
                    run.round, run.variant = rnd, variant
                    await asyncio.sleep(seconds_per_round)
            wall = time.perf_counter() - w0
            unanswered += len(run.pending)
            cpu = {n: sum(p.cpu_times()[:2]) - sum(cpu0[n][:2]) for n, p in procs.items()}
            run.stop = True
            await publisher
            status = (await rules.get("/rule/name/bench-trip/status")).json()["status"]
        finally:
            await meta.aclose()
            await rules.aclose()
            await bus.drain()
            await sup.stop()
    print(
        f"rules state after the run: {status['state']} {status['lastError'][:200]}; "
        f"crossings without a SET within 5 s: {unanswered}; load average {load0} -> {os.getloadavg()[0]:.2f}"
    )
    print("CPU while measuring (% of one core): " + ", ".join(f"{n} {100 * c / wall:.0f}%" for n, c in cpu.items()))
    for variant in ("single", "compound"):
        xs, hop, core = run.of(variant, 2), run.of(variant, 3), run.of(variant, 4)
        print(
            f"{variant:8s}: {len(xs)} commands; reading -> SET at the device service p50 {_pct(xs, 50):.2f} ms, "
            f"p90 {_pct(xs, 90):.2f}, p99 {_pct(xs, 99):.2f}, max {max(xs) * 1e3:.2f}; of which reading -> rules' "
            f"request on the bus p50 {_pct(hop, 50):.2f} p99 {_pct(hop, 99):.2f}, core-command -> device service "
            f"p50 {_pct(core, 50):.2f} p99 {_pct(core, 99):.2f}"
        )
        per_round = [run.of(variant, 2, r) for r in range(rounds)]
        print(
            "          per round p50/p99 ms: "
            + ", ".join(f"{_pct(x, 50):.2f}/{_pct(x, 99):.2f}" for x in per_round if x)
        )
    for variant in ("single", "compound"):
        xs = run.of(variant, 2)
        print(f"RESULT rules_{variant}_reading_to_command_p50_ms {_pct(xs, 50):.2f} ms (goal <= 2)")
        print(f"RESULT rules_{variant}_reading_to_command_p99_ms {_pct(xs, 99):.2f} ms (goal <= 10)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", choices=["throughput", "cost", "latency"], default=None)
    ap.add_argument("--seconds", type=float, default=10.0, help="latency: seconds per variant per round")
    ap.add_argument("--rounds", type=int, default=3, help="latency: rounds (each runs both variants)")
    args = ap.parse_args()
    if args.only in (None, "throughput"):
        throughput()
    if args.only in (None, "cost"):
        cost()
    if args.only in (None, "latency"):
        asyncio.run(latency(args.seconds, args.rounds))


if __name__ == "__main__":
    main()
