"""Suite bus throughput vs raw nats-py pub/sub, same process, same server, same payload, interleaved runs.

The headline ``bus_vs_raw_nats`` is the suite bus itself: ``NatsBus.publish`` (metrics) -> ``NatsBus.subscribe``'s
wrapped handler (count, dead-letter guard), carrying the same packed bytes as the raw lane (``nc.publish`` on the
same connection, ``nc.subscribe`` with a callback that only counts). Two more lanes show what a typed message
costs on top of the bus: "suite" = ``codec.pack_model`` of a FeatureVector-shaped message (32 named float64
features + window metadata) -> bus -> ``codec.unpack_model`` (msgpack + zero-copy array + pydantic validation);
"floor" = the bus + msgpack-python packb/unpackb of the same fields (values as bytes: no arrays, no model, no
validation). Each run sends N messages (yielding to the loop every BURST) and stops the clock when the
subscriber has handled the last one. Ratios are medians of per-pair ratios of neighbouring runs.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import msgpack
import numpy as np
from nats.aio.msg import Msg
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts.codec import pack_model, unpack_model
from edgewatch.common.service.metrics import ServiceMetrics

N = 5_000
BURST = 256  # publishes between yields to the event loop (a service publishes as its inputs arrive, not 10k at once)
REPEATS = 16


def _values(v: Any) -> np.ndarray[Any, Any]:
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError("values: must be one-dimensional")
    return arr


class BenchVector(BaseModel):
    """Shaped like contracts.FeatureVector: camelCase keys, names + float64 values, window metadata."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, arbitrary_types_allowed=True
    )

    device: str = Field(min_length=1)
    profile: str = ""
    resources: list[str]
    window_start: int = Field(ge=0)
    window_end: int = Field(ge=0)
    sample_count: int = Field(ge=0)
    sample_rate: float | None = None
    names: list[str]
    values: Annotated[np.ndarray[Any, Any], BeforeValidator(_values)]
    config_version: str = "0"
    sequence: int = 0
    origin: int = 0


def sample_vector() -> BenchVector:
    names = [f"Vibration.f{i}" for i in range(32)]
    return BenchVector(
        device="pump-1",
        profile="pump",
        resources=["Vibration"],
        window_start=1_700_000_000_000_000_000,
        window_end=1_700_000_000_080_000_000,
        sample_count=4096,
        sample_rate=51200.0,
        names=names,
        values=np.linspace(0.0, 1.0, 32),
        config_version="3",
        sequence=42,
        origin=1_700_000_000_090_000_000,
    )


def start_server() -> tuple[subprocess.Popen[bytes], str, str]:
    binary = Path(sys.executable).parent / "nats-server"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="ew-bench-")
    log = open(Path(workdir) / "nats.log", "wb")  # handed to the child, closed below
    proc = subprocess.Popen([str(binary), "-a", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as c:
                if c.recv(4).startswith(b"INFO"):
                    return proc, f"nats://127.0.0.1:{port}", workdir
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nats-server did not start")


async def timed_run(
    publish: Callable[[], Awaitable[None]], done: asyncio.Event, count: list[int], cpu: list[float] | None = None
) -> float:
    """Messages per second for N publishes until the subscriber has handled all N (``cpu`` gets CPU us/msg)."""
    count[0] = 0
    done.clear()
    cpu0 = time.process_time()
    start = time.perf_counter()
    for i in range(N):
        await publish()
        if i % BURST == BURST - 1:
            await asyncio.sleep(0)
    await asyncio.wait_for(done.wait(), 60)
    elapsed = time.perf_counter() - start
    if cpu is not None:
        cpu.append((time.process_time() - cpu0) / N * 1e6)
    return N / elapsed


class Lane:
    """One measured path: its publish step, a subscriber that counts to N, and its per-run figures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = [0]
        self.done = asyncio.Event()
        self.rates: list[float] = []
        self.cpu: list[float] = []
        self.publish: Callable[[], Awaitable[None]] | None = None

    def seen(self) -> None:
        self.count[0] += 1
        if self.count[0] == N:
            self.done.set()

    async def run(self) -> None:
        assert self.publish is not None
        self.rates.append(await timed_run(self.publish, self.done, self.count, self.cpu))


async def main() -> None:
    logging.getLogger("edgewatch").setLevel(logging.ERROR)  # keep the bus's connect/drain logs off the output
    proc, url, workdir = start_server()
    bus = NatsBus(MessageBusSection(servers=[url]), "edgewatch-bench", ServiceMetrics("edgewatch-bench"))
    await bus.connect()
    try:
        vec = sample_vector()
        payload = pack_model(vec)
        plain = {**vec.model_dump(by_alias=True), "values": vec.values.tobytes()}
        nc = bus.nc
        raw, suite, floor, layer = Lane("raw"), Lane("suite"), Lane("floor"), Lane("bus")

        async def raw_cb(msg: Msg) -> None:
            raw.seen()

        async def suite_handler(msg: Msg) -> None:
            v = unpack_model(BenchVector, msg.data)
            if v.sequence == 42:
                suite.seen()

        async def floor_handler(msg: Msg) -> None:
            msgpack.unpackb(msg.data)
            floor.seen()

        async def layer_handler(msg: Msg) -> None:
            layer.seen()

        await nc.subscribe("bench.raw", cb=raw_cb, pending_msgs_limit=512 * 1024)
        await bus.subscribe("edgewatch.features.vector.pump-1", suite_handler)
        await bus.subscribe("edgewatch.features.vector.pump-2", floor_handler)
        await bus.subscribe("edgewatch.features.vector.pump-3", layer_handler)
        await nc.flush()

        async def raw_pub() -> None:
            await nc.publish("bench.raw", payload)

        async def suite_pub() -> None:
            await bus.publish("edgewatch.features.vector.pump-1", pack_model(vec))

        async def floor_pub() -> None:
            await bus.publish("edgewatch.features.vector.pump-2", msgpack.packb(plain))

        async def layer_pub() -> None:
            await bus.publish("edgewatch.features.vector.pump-3", payload)

        raw.publish, suite.publish, floor.publish, layer.publish = raw_pub, suite_pub, floor_pub, layer_pub
        lanes = (raw, suite, floor, layer)
        for path in lanes:  # warm-up, not counted
            await path.run()
            path.rates.clear()
            path.cpu.clear()
        for i in range(REPEATS):
            for path in lanes if i % 2 == 0 else reversed(lanes):
                await path.run()

        # Runs are interleaved, so neighbouring raw and suite runs share the machine's load (several engineers'
        # processes on 2 cores): the figure is the median of their per-pair ratios.
        def paired(lane: Lane) -> list[float]:
            return [x / r for x, r in zip(lane.rates, raw.rates, strict=True)]

        pairs = paired(suite)
        ratio = statistics.median(pairs)
        print(f"payload {len(payload)} bytes, {N} messages per run, {REPEATS} interleaved runs per path")
        for path in lanes:
            print(f"{path.name:5s} msgs/s: " + ", ".join(f"{r:,.0f}" for r in path.rates))
        print("suite/raw per pair: " + ", ".join(f"{r:.2f}" for r in pairs))
        cpu = ", ".join(f"{lane.name} {min(lane.cpu):.1f}" for lane in lanes)
        print(f"best-of ratio {max(suite.rates) / max(raw.rates):.2f}; client CPU us per message (best): {cpu}")
        print(
            f"bus   = NatsBus publish + wrapped handler, no codec: median ratio {statistics.median(paired(layer)):.2f}"
        )
        print(
            "floor = NatsBus + msgpack-python of the same fields (values as bytes), no arrays, no validation: "
            f"median ratio {statistics.median(paired(floor)):.2f}"
        )
        print(f"RESULT raw_nats_pubsub {statistics.median(raw.rates):.0f} msgs/s (goal > 0)")
        print(f"RESULT typed_message_pubsub {statistics.median(suite.rates):.0f} msgs/s (goal > 0)")
        print(f"RESULT typed_message_path_vs_raw_nats {ratio:.2f} ratio (goal > 0)")
        print(f"RESULT typed_message_cpu_per_msg {min(suite.cpu):.1f} us (goal > 0)")
        print(f"RESULT bus_vs_raw_nats {statistics.median(paired(layer)):.2f} ratio (goal >= 0.5)")
    finally:
        await bus.drain()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
