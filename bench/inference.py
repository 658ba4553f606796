"""Vectors/s through edgewatch-inference's scoring path vs a bare ONNX Runtime ``session.run``, same model, one run.

Model: the service's own auto-fitted baseline (standardised distance) over 28 features, the demo pump's shape
(4 resources x 7 scalar features), in the service's session (CPU EP, 1 intra-op thread, spinning off).

Baseline ("bare"): ``session.run`` on one ready-made float32 [1, 28] row per vector: no decoding, no model
lookup, no message. Service path: what ``ScoreMessaging`` does per FeatureVector message minus the socket:
``decode_feature_vector`` of the msgpack bytes, ``InferenceEngine.score_batch`` (model lookup, name check,
finite check, thresholds, sequence, contributions, the Score document) and ``encode_score_doc``. Under load the
service scores the vectors that queued up together in one batch (up to 256); a lone vector is a batch of 1,
reported separately. End to end: the real service (build_app) on a real nats-server; a client publishes
FeatureVector messages and counts the Score messages that come back.

Micro-batching (issue 13): the scoring stage as the service runs it (``MicroBatcher`` -> ``score_off_loop``:
prepare on the event loop, ``session.run`` in the worker thread, Score documents and ``encode_score_doc`` back
on the loop), from a decoded vector queued to its encoded Score, for a burst of K vectors arriving at once
(a window tick closing K devices' windows). Two configurations of the same code: one ``session.run`` per
message (``MaxBatch`` 1) and micro-batched (``MaxBatch`` 256, ``BatchDeadlineMs`` 2). For each, K doubles
from 1 until the p99 latency of a burst passes the budget (``P99_BUDGET_S``, 50 ms: a fifth of the ANCHORS
3.4 edge target of 250 ms end to end, 1 % of the demo's 5 s window, and wide enough that the shared 2-core
VM's scheduling noise does not decide the ladder); the throughput is that of the largest K within budget
(K / median time to drain the burst). Decoding the FeatureVector (about 7 us, once per message in either
configuration, in the subscription callback) is not part of the stage and is measured by the lines above.
Each configuration's K is found first; then both run interleaved, burst for burst, for ROUNDS rounds, and the
speedup is the median of the per-round throughput ratios (a load burst disturbs one round, not the result);
the p99 printed is the median of the rounds' burst p99s (the same statistic the ladder holds to the budget).
Goal: micro-batched at least 10x the per-message throughput at the same p99 budget.

Sides run interleaved in short rounds; ratios are medians of per-round ratios (a load burst on a shared
machine disturbs one round, not the result). Goals: the batched path at least half the bare ORT rate; a lone
vector (decode + score + encode) within the ANCHORS section 3 budget of 1 ms p99 per window for linear models
(its ratio to a hot bare run is printed too: ORT's per-call cost rises when calls are spaced by other work,
ANCHORS 3.1); end to end at least 1000 vectors/s, i.e. 5000 devices at the demo's 5 s windows, on one core.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.feature import FeatureVector, decode_feature_vector, encode_feature_vector
from edgewatch.common.contracts.score import encode_score_doc
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.inference.app import build_app
from edgewatch.inference.batching import MicroBatcher
from edgewatch.inference.config import InferenceSection, InferenceSettings
from edgewatch.inference.engine import InferenceEngine
from edgewatch.inference.messaging import score_off_loop
from edgewatch.inference.models import ModelRegistry

N_FEATURES = 28
VECTORS = 2048
BATCH = 256
ROUNDS = 15
P99_BUDGET_S = 0.050
BURST_ROUNDS = 4
MAX_BURST = 16384
NAMES = [
    f"{r}.{f}"
    for r in ("Current", "Pressure", "Temperature", "Vibration")
    for f in ("mean", "std", "rms", "min", "max", "delta", "zscore")
]


def vector(i: int, rng: np.random.Generator) -> FeatureVector:
    t = 1_700_000_000_000_000_000 + i * 5_000_000_000
    return FeatureVector(
        device="bench-pump",
        profile="demo-pump",
        resources=["Current", "Pressure", "Temperature", "Vibration"],
        window_start=t,
        window_end=t + 5_000_000_000,
        sample_count=45,
        names=NAMES,
        values=rng.normal(10.0, 1.0, N_FEATURES),
        config_version="1",
        sequence=i,
    )


def fitted_engine(root: Path, rng: np.random.Generator) -> InferenceEngine:
    engine = InferenceEngine(ModelRegistry(root), InferenceSection(baseline_count=20), ServiceMetrics("bench"))
    engine.score_batch([vector(i, rng) for i in range(20)])
    return engine


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def in_process(engine: InferenceEngine, messages: list[bytes]) -> tuple[float, float, float, float, float, float]:
    model = engine.model_for("bench-pump")
    assert model is not None
    rows = [np.asarray(decode_feature_vector(m).values, dtype=np.float32).reshape(1, -1) for m in messages]
    sess, outs, inp = model.session, model.output_names, model.input_name

    def bare() -> None:
        for x in rows:
            sess.run(outs, {inp: x})

    def service(batch: int) -> Callable[[], None]:
        def run() -> None:
            for k in range(0, len(messages), batch):
                fvs = [decode_feature_vector(m) for m in messages[k : k + batch]]
                for doc in engine.score_batch(fvs):
                    encode_score_doc(doc)  # type: ignore[arg-type]

        return run

    lone_msgs = messages[: len(messages) // 4]
    lone_rows = rows[: len(rows) // 4]

    def bare_lone() -> None:
        for x in lone_rows:
            sess.run(outs, {inp: x})

    lone_lat: list[float] = []

    def service_lone() -> None:
        clock = time.perf_counter
        for m in lone_msgs:
            t0 = clock()
            for doc in engine.score_batch([decode_feature_vector(m)]):
                encode_score_doc(doc)  # type: ignore[arg-type]
            lone_lat.append(clock() - t0)

    batched, lone, t_bare, t_svc, t_lone = [], [], [], [], []
    gc.disable()
    try:
        for _ in range(ROUNDS):
            b, s = timed(bare), timed(service(BATCH))
            bl, sl = timed(bare_lone), timed(service_lone)
            batched.append(b / s)
            lone.append(bl / sl)
            t_bare.append(b / len(messages))
            t_svc.append(s / len(messages))
            t_lone.append(sl / len(lone_msgs))
    finally:
        gc.enable()
    p99 = float(np.percentile(lone_lat, 99))
    return statistics.median(batched), statistics.median(lone), min(t_bare), min(t_svc), min(t_lone), p99


class Stage:
    """The scoring stage (MicroBatcher -> score_off_loop -> encode) with one batcher setting; bursts of K vectors."""

    def __init__(self, engine: InferenceEngine, fvs: list[FeatureVector], max_batch: int, deadline_s: float) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.engine, self.fvs = engine, fvs
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="bench-ort")
        self.batcher: MicroBatcher[tuple[float, FeatureVector]] = MicroBatcher(self._process, max_batch, deadline_s)
        self.lat: list[float] = []
        self.done = asyncio.Event()
        self.remaining = 0
        self.offset = 0

    async def _process(self, batch: list[tuple[float, FeatureVector]]) -> None:
        outcomes, _ = await score_off_loop(self.engine, self.executor, [fv for _, fv in batch])
        now = asyncio.get_running_loop().time()
        for (t0, _), doc in zip(batch, outcomes, strict=True):
            encode_score_doc(doc)  # type: ignore[arg-type]
            self.lat.append(now - t0)
        self.remaining -= len(batch)
        if self.remaining == 0:
            self.done.set()

    async def burst(self, k: int) -> float:
        """Queue k vectors at once; the seconds until the last one's Score is encoded."""
        loop = asyncio.get_running_loop()
        self.remaining = k
        self.done.clear()
        t0 = loop.time()
        for _ in range(k):
            self.batcher.put((loop.time(), self.fvs[self.offset % len(self.fvs)]))
            self.offset += 1
        await self.done.wait()
        return loop.time() - t0

    async def largest_burst(self) -> int:
        """The largest K (doubling from 1) within the budget: the median of 3 trials' p99 (each over BURST_ROUNDS
        bursts) at most P99_BUDGET_S, so one scheduling hiccup on the shared machine does not end the ladder."""
        best, k = 0, 1
        while k <= MAX_BURST:
            trials = []
            for _ in range(3):
                self.lat.clear()
                for _ in range(BURST_ROUNDS):
                    await self.burst(k)
                trials.append(float(np.percentile(self.lat, 99)))
            if statistics.median(trials) > P99_BUDGET_S:
                break
            best, k = k, k * 2
        return max(best, 1)

    async def close(self) -> None:
        await self.batcher.stop()
        self.executor.shutdown()


async def batching(engine: InferenceEngine, messages: list[bytes]) -> dict[str, float]:
    """Per-message vs micro-batched at the same p99 budget: each at its largest burst within budget, the two
    run interleaved for ROUNDS rounds; the speedup is the median of per-round throughput ratios."""
    fvs = [decode_feature_vector(m) for m in messages]
    single, batched = Stage(engine, fvs, 1, 0.0), Stage(engine, fvs, 256, 0.002)
    for st in (single, batched):
        st.batcher.start()
    gc.disable()
    try:
        k1, kb = await single.largest_burst(), await batched.largest_burst()
        ratios, rates1, ratesb, p99s1, p99sb = [], [], [], [], []
        for _ in range(ROUNDS):
            single.lat.clear()
            r1 = k1 / await single.burst(k1)
            p99s1.append(float(np.percentile(single.lat, 99)))
            batched.lat.clear()
            rb = kb / await batched.burst(kb)
            p99sb.append(float(np.percentile(batched.lat, 99)))
            rates1.append(r1)
            ratesb.append(rb)
            ratios.append(rb / r1)
    finally:
        gc.enable()
        await single.close()
        await batched.close()
    return {
        "k1": k1,
        "kb": kb,
        "rate1": statistics.median(rates1),
        "rateb": statistics.median(ratesb),
        "p99_1": statistics.median(p99s1),
        "p99_b": statistics.median(p99sb),
        "speedup": statistics.median(ratios),
    }


async def end_to_end(messages: list[bytes], data_dir: Path, nats_url: str) -> float:
    """Vectors/s through the running service over NATS (publish all, wait for every score)."""
    import nats

    settings = InferenceSettings(
        message_bus=MessageBusSection(servers=[nats_url]),
        data_dir=str(data_dir),
        inference=InferenceSection(baseline_count=20),
    )
    host = build_app(settings)
    async with host:
        nc = await nats.connect(nats_url)
        got = 0
        done = asyncio.Event()
        target = len(messages) - 20

        async def on_score(_msg: object) -> None:
            nonlocal got
            got += 1
            if got >= target:
                done.set()

        await nc.subscribe(topics.score("bench-pump"), cb=on_score)
        await nc.flush()
        subject = topics.feature_vector("bench-pump")
        start = time.perf_counter()
        for m in messages:
            await nc.publish(subject, m)
        await nc.flush()
        await asyncio.wait_for(done.wait(), 60)
        elapsed = time.perf_counter() - start
        await nc.drain()
    return target / elapsed


def main() -> None:
    rng = np.random.default_rng(11)
    messages = [encode_feature_vector(vector(i, rng)) for i in range(VECTORS)]
    with tempfile.TemporaryDirectory() as tmp:
        engine = fitted_engine(Path(tmp) / "models", rng)
        ratio, lone_ratio, bare_s, svc_s, lone_s, lone_p99 = in_process(engine, messages)
        print(f"bare ORT session.run, batch 1:       {bare_s * 1e6:8.2f} us/vector")
        print(f"service path, batches of {BATCH}:       {svc_s * 1e6:8.2f} us/vector")
        print(f"service path, lone vectors:           {lone_s * 1e6:8.2f} us/vector, p99 {lone_p99 * 1e6:.1f} us")
        print(f"lone vector vs bare ORT (median ratio): {lone_ratio:.3f}")
        bt = asyncio.run(batching(engine, messages))
        budget = f"p99 budget {P99_BUDGET_S * 1e3:.0f} ms"
        print(
            f"scoring stage, one session.run per message: burst {bt['k1']:5.0f} ({budget}), "
            f"{bt['rate1']:8.0f} vectors/s, median burst p99 {bt['p99_1'] * 1e3:.2f} ms"
        )
        print(
            f"scoring stage, micro-batched (256, 2 ms):   burst {bt['kb']:5.0f} ({budget}), "
            f"{bt['rateb']:8.0f} vectors/s, median burst p99 {bt['p99_b'] * 1e3:.2f} ms"
        )
        port = _free_port()
        server = subprocess.Popen(
            [
                str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "nats-server"),
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(port)
            e2e = asyncio.run(end_to_end(messages, Path(tmp) / "e2e", f"nats://127.0.0.1:{port}"))
        finally:
            server.terminate()
            server.wait(10)
    bare_rate = 1.0 / bare_s
    print(f"end to end over nats-server:          {e2e:8.0f} vectors/s (bare ORT {bare_rate:.0f}/s)")
    print(f"RESULT inference_vs_bare_ort {ratio:.3f} ratio (goal >= 0.5)")
    print(f"RESULT inference_lone_vector_p99_us {lone_p99 * 1e6:.1f} us (goal <= 1000)")
    print(f"RESULT inference_e2e_nats_vectors_per_s {e2e:.0f} vectors/s (goal >= 1000)")
    print(f"RESULT inference_batching_speedup {bt['speedup']:.1f} x (goal >= 10)")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 10.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nats-server did not start")


if __name__ == "__main__":
    main()
