"""core-data persistence rate: EdgeX events on the bus -> core-data -> JetStream stream, vs raw acked JetStream writes.

One nats-server, one process. "core" publishes N EdgeX events (``nats`` format, AddEventRequest JSON, one Float32
reading each) on ``edgex.events.device.…`` and stops the clock when core-data has stored the last one (its index
holds N events). "raw" is ``js.publish`` of the same bodies into a plain stream with 256 writes in flight, one
ack each (no envelope decoding, no validation, no index; core-data itself writes atomic batches, one ack per
batch: services/core/README.md). Runs alternate; medians are reported.
EdgeX's reference point (edgex-go #5185, COMPAT.md section 8): ~133 events/s fully persisted on a Raspberry Pi 3B.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts import topics
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.core.app import build_app
from edgewatch.core.config import CoreSettings
from edgewatch.suite.natsconf import NatsServerConf, nats_server_binary

N = 2_000
REPEATS = 5
STREAM = "EDGEWATCH_CORE_EVENTS"
INFLIGHT = 256  # unacknowledged writes of the raw lane


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _events(n: int, device: str) -> list[bytes]:
    out = []
    for _ in range(n):
        o = time.time_ns()
        ev = {
            "apiVersion": "v3",
            "id": str(uuid.uuid4()),
            "deviceName": device,
            "profileName": "P",
            "sourceName": "t",
            "origin": o,
            "readings": [
                {
                    "id": str(uuid.uuid4()),
                    "origin": o,
                    "deviceName": device,
                    "resourceName": "t",
                    "profileName": "P",
                    "valueType": "Float32",
                    "value": "2.5e+01",
                }
            ],
        }
        out.append(json.dumps({"apiVersion": "v3", "requestId": str(uuid.uuid4()), "event": ev}).encode())
    return out


async def _stored(bus: NatsBus) -> int:
    return int((await bus.js.stream_info(STREAM)).state.messages)


async def _core_run(bus: NatsBus, device: str) -> float:
    bodies = _events(N, device)
    subject = topics.device_event("bench", "P", device, "t")
    start_count = await _stored(bus)
    t0 = time.perf_counter()
    for i, b in enumerate(bodies):
        body, headers = encode_envelope(new_envelope(b), "nats")
        await bus.publish(subject, body, headers)
        if i % 256 == 0:
            await asyncio.sleep(0)
    while await _stored(bus) < start_count + N:  # noqa: ASYNC110 - polling the stream is what is measured
        await asyncio.sleep(0.01)
    return N / (time.perf_counter() - t0)


async def _raw_run(bus: NatsBus, device: str) -> float:
    bodies = _events(N, device)
    gate = asyncio.Semaphore(INFLIGHT)

    async def one(b: bytes) -> None:
        try:
            await bus.js.publish("bench.raw." + device, b, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        finally:
            gate.release()

    t0 = time.perf_counter()
    tasks = []
    for b in bodies:
        await gate.acquire()
        tasks.append(asyncio.create_task(one(b)))
    await asyncio.gather(*tasks)
    return N / (time.perf_counter() - t0)


async def run(port: int) -> None:
    """Alternate core and raw runs against the nats-server on ``port``; print the RESULT lines."""
    await asyncio.sleep(1.0)
    mb = MessageBusSection(servers=[f"nats://127.0.0.1:{port}"])
    host = build_app(CoreSettings(message_bus=mb))
    pub = NatsBus(mb, "bench", ServiceMetrics("bench"))
    async with host:
        await pub.connect()
        await pub.js.add_stream(name="BENCH_RAW", subjects=["bench.raw.>"])
        core_rates, raw_rates = [], []
        for r in range(REPEATS):
            core_rates.append(await _core_run(pub, f"dev{r}"))
            raw_rates.append(await _raw_run(pub, f"dev{r}"))
            print(f"run {r}: core {core_rates[-1]:.0f} ev/s, raw js.publish {raw_rates[-1]:.0f} msg/s")
        await pub.drain()
    core, raw = statistics.median(core_rates), statistics.median(raw_rates)
    print(f"RESULT core_data_persist_rate {core:.0f} events/s (goal >= 133)")
    print(f"RESULT core_data_vs_raw_jetstream {core / raw:.2f} ratio (goal >= 0.5)")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="ew-bench-core-"))
    port = _port()
    conf = NatsServerConf(port=port, http_port=_port(), store_dir=tmp).write(tmp / "nats-server.conf")
    server = subprocess.Popen(
        [nats_server_binary(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        asyncio.run(run(port))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
