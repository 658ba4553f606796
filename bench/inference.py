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
BURST_ROUNDS = 5
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


async def burst_stage(
    engine: InferenceEngine, fvs: list[FeatureVector], max_batch: int, deadline_s: float
) -> tuple[int, float, float]:
    """Largest burst K with p99 <= budget, its throughput (vectors/s) and p99 (s), for one batcher setting."""
    from concurrent.futures import ThreadPoolExecutor

    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(1, thread_name_prefix="bench-ort")
    lat: list[float] = []
    done = asyncio.Event()
    remaining = 0

    async def process(batch: list[tuple[float, FeatureVector]]) -> None:
        nonlocal remaining
        outcomes, _ = await score_off_loop(engine, executor, [fv for _, fv in batch])
        now = loop.time()
        for (t0, _), doc in zip(batch, outcomes, strict=True):
            encode_score_doc(doc)  # type: ignore[arg-type]
            lat.append(now - t0)
        remaining -= len(batch)
        if remaining == 0:
            done.set()

    batcher: MicroBatcher[tuple[float, FeatureVector]] = MicroBatcher(process, max_batch, deadline_s)
    batcher.start()
    best = (0, 0.0, 0.0)
    k = 1
    try:
        while k <= MAX_BURST:
            lat.clear()
            drains = []
            for r in range(BURST_ROUNDS):
                remaining = k
                done.clear()
                t0 = loop.time()
                for i in range(k):
                    batcher.put((loop.time(), fvs[(r * k + i) % len(fvs)]))
                await done.wait()
                drains.append(loop.time() - t0)
            p99 = float(np.percentile(lat, 99))
            if p99 > P99_BUDGET_S:
                break
            best = (k, k / statistics.median(drains), p99)
            k *= 2
    finally:
        await batcher.stop()
        executor.shutdown()
    return best


async def batching(
    engine: InferenceEngine, messages: list[bytes]
) -> tuple[tuple[int, float, float], tuple[int, float, float]]:
    fvs = [decode_feature_vector(m) for m in messages]
    gc.disable()
    try:
        single = await burst_stage(engine, fvs, 1, 0.0)
        batched = await burst_stage(engine, fvs, 256, 0.002)
    finally:
        gc.enable()
    return single, batched


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
        (k1, rate1, p1), (kb, rateb, pb) = asyncio.run(batching(engine, messages))
        print(
            f"scoring stage, one session.run per message: burst {k1:5d} within p99 {P99_BUDGET_S * 1e3:.0f} ms, "
            f"{rate1:8.0f} vectors/s (p99 {p1 * 1e3:.2f} ms)"
        )
        print(
            f"scoring stage, micro-batched (256, 2 ms):   burst {kb:5d} within p99 {P99_BUDGET_S * 1e3:.0f} ms, "
            f"{rateb:8.0f} vectors/s (p99 {pb * 1e3:.2f} ms)"
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
    speedup = rateb / rate1 if rate1 else float("inf")
    print(f"RESULT inference_batching_speedup {speedup:.1f} x (goal >= 10)")


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
