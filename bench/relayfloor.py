"""The floor of the actuation path's shape on this machine, for bench/e2e.py: bare nats-py relay processes in a
chain, pinged at the crossings' cadence while a phase's load flows. One relay (the default: the bench -> relay ->
the bench, two bus transits and one Python wake-up) has the shape of rules' direct route (event -> rules -> the
device service); two relays (three transits, two wake-ups) that of the route through core-command."""

from __future__ import annotations

import asyncio
import sys
import time

from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.suite.layout import SuiteConfig

RELAY = """
import asyncio, sys, nats
from edgewatch.suite.schedclass import apply_in_child
rt_cpus = frozenset(map(int, sys.argv[7].split(","))) if sys.argv[7] else None
apply_in_child("actuation", 0, int(sys.argv[5]) * 1000, None, int(sys.argv[6]), rt_cpus)  # the class rules runs in

async def main():
    nc = await nats.connect(sys.argv[1], user=sys.argv[2], password=sys.argv[3])
    src, dst = sys.argv[4].split(",")

    async def cb(m):
        await nc.publish(dst, m.data)

    await nc.subscribe(src, cb=cb)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class RelayFloor:
    """The floor of the actuation path's shape on this machine: ``relays`` bare nats-py relay processes in a chain
    (this process -> relay 1 [-> relay 2] -> this process), pinged at the crossings' cadence while the phase's load
    flows (module docstring)."""

    def __init__(
        self,
        cfg: SuiteConfig,
        slice_us: int,
        relays: int = 1,
        rt_priority: int = 0,
        rt_cpus: frozenset[int] | None = None,
    ) -> None:
        if relays not in (1, 2):
            raise ValueError("relays must be 1 (rules' direct route) or 2 (through core-command)")
        self.cfg = cfg
        self.slice_us = slice_us
        self.rt_priority = rt_priority
        self.rt_cpus = ",".join(map(str, sorted(rt_cpus or ())))
        self.relays = relays
        self.procs: list[asyncio.subprocess.Process] = []
        self.latencies: list[float] = []

    async def start(self, bus: NatsBus) -> None:
        user, password = self.cfg.nats_credentials("admin")
        url = f"nats://127.0.0.1:{self.cfg.ports.nats}"
        hops = (
            ("bench.floor.a,bench.floor.c",)
            if self.relays == 1
            else ("bench.floor.a,bench.floor.b", "bench.floor.b,bench.floor.c")
        )
        for hop in hops:
            self.procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    RELAY,
                    url,
                    user,
                    password,
                    hop,
                    str(self.slice_us),
                    str(self.rt_priority),
                    self.rt_cpus,
                )
            )

        async def back(msg: Msg) -> None:
            self.latencies.append(time.perf_counter() - float(msg.data))

        await bus.nc.subscribe("bench.floor.c", cb=back)
        await asyncio.sleep(1.0)

    async def ping(self, bus: NatsBus, every: float, stop: asyncio.Event) -> None:
        self.latencies = []
        while not stop.is_set():
            await bus.nc.publish("bench.floor.a", repr(time.perf_counter()).encode())
            await asyncio.sleep(every)

    async def stop(self) -> None:
        for p in self.procs:
            p.kill()
            await p.wait()
