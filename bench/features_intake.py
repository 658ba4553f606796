"""features' intake path under a burst vs raw nats-py, in one process: CPU per event, robust to a loaded machine.

The events are phase 3's of ``bench/e2e.py`` (10 background pumps and the trip pump, 3 readings each, the EdgeX
``nats`` format, 50 us apart in event time). Lanes, on one nats-server, each run publishing N events from one
connection and counting until the subscriber has handled the last:

- ``raw``: nats-py ``subscribe`` with a callback that only counts (the floor: what any subscriber pays);
- ``features``: the service's ``EventConsumer`` on a ``NatsBus`` (the subscription wrapper, envelope and event
  decode, readings into the windows, vectors published when windows close);
- ``decode``: the same bus subscription decoding the envelope and the AddEventRequest only (what each of
  core-data, rules and the console pays per event too).

Runs are interleaved; the figure per lane is the best run's process CPU per event (publisher included, the same in
every lane), so other processes on the machine change it little. The ratio raw / features is the rate features
reaches relative to raw pub -> sub when both are CPU-bound on one core.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time

from nats.aio.msg import Msg

from bus import start_server
from e2e import make_events
from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts.eventcodec import decode_add_event_within
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.features.messaging import EventConsumer
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.store import ConfigStore

N = 5_000
REPEATS = 5
BURST = 500  # publishes between yields to the loop, as phase 3 publishes


class Lane:
    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.prefix = prefix
        self.count = 0
        self.done = asyncio.Event()
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def seen(self) -> None:
        self.count += 1
        if self.count == N:
            self.done.set()


async def run(lane: Lane, pub: NatsBus, events: list[tuple[str, bytes, dict[str, str], bool]]) -> None:
    lane.count = 0
    lane.done.clear()
    nc = pub.nc
    c0, t0 = time.process_time(), time.perf_counter()
    for i, (subject, body, headers, _) in enumerate(events):
        await nc.publish(lane.prefix + subject, body, headers=headers)
        if i % BURST == BURST - 1:
            await asyncio.sleep(0)
    await asyncio.wait_for(lane.done.wait(), 120)
    lane.cpu.append((time.process_time() - c0) / N * 1e6)
    lane.wall.append((time.perf_counter() - t0) / N * 1e6)


async def main() -> None:
    logging.getLogger("edgewatch").setLevel(logging.ERROR)
    proc, url, workdir = start_server()
    settings = MessageBusSection(servers=[url])
    pub = NatsBus(settings, "bench-pub", ServiceMetrics("bench-pub"))
    sub = NatsBus(settings, "edgewatch-features", ServiceMetrics("edgewatch-features"))
    await pub.connect()
    await sub.connect()
    try:
        events = make_events(N, 20_000.0)
        raw, feats, dec = Lane("raw", "raw."), Lane("features", ""), Lane("decode", "dec.")
        consumer = EventConsumer(sub, FeaturePipeline(ConfigStore(None)))

        async def raw_cb(msg: Msg) -> None:
            raw.seen()

        async def features_handler(msg: Msg) -> None:
            await consumer.handle(msg)
            feats.seen()

        async def decode_handler(msg: Msg) -> None:
            env = decode_envelope(msg)
            decode_add_event_within(env.payload, env.content_type, 32)
            dec.seen()

        await sub.nc.subscribe("raw.>", cb=raw_cb, pending_msgs_limit=512 * 1024)
        await sub.subscribe("edgex.events.device.>", features_handler)
        await sub.subscribe("dec.>", decode_handler)
        await sub.settle()
        lanes = (raw, feats, dec)
        for lane in lanes:  # warm-up: windows, caches
            await run(lane, pub, events)
            lane.cpu.clear()
            lane.wall.clear()
        for i in range(REPEATS):
            for lane in lanes if i % 2 == 0 else reversed(lanes):
                events = make_events(N, 20_000.0)  # fresh ids and later origins: no duplicates in the windows
                await run(lane, pub, events)
        print(f"{N} events per run, {REPEATS} interleaved runs per lane; process CPU (us/event), best first")
        for lane in lanes:
            print(f"{lane.name:8s} cpu " + ", ".join(f"{x:.1f}" for x in sorted(lane.cpu)), end="")
            print(f"; wall best {min(lane.wall):.1f} us/event")
        ratio = min(raw.cpu) / min(feats.cpu)
        print(f"RESULT features_intake_cpu_per_event {min(feats.cpu):.1f} us (goal > 0)")
        print(f"RESULT event_decode_cpu_per_event {min(dec.cpu) - min(raw.cpu):.1f} us above raw (goal > 0)")
        print(f"RESULT features_intake_vs_raw_nats {ratio:.2f} ratio (goal > 0)")
    finally:
        await sub.drain()
        await pub.drain()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
