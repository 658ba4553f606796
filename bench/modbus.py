"""Modbus ingest benchmark: coalesced poller vs a naive one-request-per-resource loop, and sustained polling.

Simulators run as separate processes (``python -m edgewatch.sim.modbus``) so the measured process is the ingest
side only. Part 1 reads 240 resources of one simulator both ways, with the same client library, codec and event
building, and prints the speedup. Part 2 polls 100 devices x 20 resources at 10 Hz (100 endpoints in 4 simulator
processes,
one AutoEvent per device on a 20-resource command, one 30-register block read per cycle), publishes every event
to a real nats-server in EdgeX's ``nats`` format, and reports the process CPU per 1k readings/s. Goal <= 0.05 cores
per 1k readings/s: a 4-core gateway that gives ingest one core then carries this 20k readings/s plant.

    .venv/bin/python bench/modbus.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.event import Event
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.ingest.drivers.modbus.driver import ModbusOptions, create_driver
from edgewatch.ingest.drivers.modbus.protocol import ConnectionPool
from edgewatch.ingest.messaging import EventPublisher
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.ingest.scheduler import DevicePoller

N_RESOURCES = 240
TYPES = [
    ("Float32", 2, {}),
    ("Int16", 1, {}),
    ("Uint32", 2, {"isWordSwap": True}),
    ("Float32", 1, {"rawType": "Int16"}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def profile_doc(name: str, n: int, command: bool, *, input_registers: bool = True) -> dict[str, Any]:
    resources, addr = [], {"HOLDING_REGISTERS": 0, "INPUT_REGISTERS": 0}
    for i in range(n):
        vt, width, extra = TYPES[i % len(TYPES)]
        table = "INPUT_REGISTERS" if input_registers and i % 2 else "HOLDING_REGISTERS"
        props: dict[str, Any] = {"valueType": vt, "readWrite": "R", "defaultValue": str(i % 50 + 1)}
        if extra.get("rawType"):
            props["scale"] = 0.1
        resources.append(
            {
                "name": f"R{i:03d}",
                "attributes": {"primaryTable": table, "startingAddress": addr[table], **extra},
                "properties": props,
            }
        )
        addr[table] += width
    doc: dict[str, Any] = {"name": name, "deviceResources": resources}
    if command:
        ops = [{"deviceResource": r["name"]} for r in resources]
        doc["deviceCommands"] = [{"name": "All", "readWrite": "R", "resourceOperations": ops}]
    return doc


@contextlib.contextmanager
def simulators(profile_file: Path, count: int, units: int) -> Iterator[list[int]]:
    ports = [free_port() for _ in range(count)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edgewatch.sim.modbus",
                "--profile",
                str(profile_file),
                "--port",
                str(p),
                "--units",
                str(units),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    try:
        for p in ports:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"simulator on {p} did not start") from None
                    time.sleep(0.05)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


def _sim_worker(profile_file: str, servers: int, conn: Any) -> None:
    """A simulator process serving ``servers`` endpoints (one port each), like a plant of separate devices."""
    from edgewatch.sim.modbus.server import start_modbus_sim

    async def run() -> None:
        sims = [await start_modbus_sim(profile_file) for _ in range(servers)]
        conn.send([s.port for s in sims])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until the parent says stop
        for s in sims:
            await s.close()

    asyncio.run(run())


@contextlib.contextmanager
def endpoint_simulators(profile_file: Path, processes: int, per_process: int) -> Iterator[list[int]]:
    """``processes`` simulator processes with ``per_process`` endpoints each; yields every port."""
    ctx = multiprocessing.get_context("spawn")
    pipes, procs, ports = [], [], []
    for _ in range(processes):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_sim_worker, args=(str(profile_file), per_process, child), daemon=True)
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    try:
        for parent in pipes:
            if not parent.poll(60):
                raise RuntimeError("simulator process did not start")
            ports.extend(parent.recv())
        yield ports
    finally:
        for parent in pipes:
            with contextlib.suppress(OSError):
                parent.send("stop")
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()


@contextlib.contextmanager
def nats_server() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "nats-server"), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def device(name: str, profile: str, port: int, unit: int, auto_events: list[dict[str, Any]]) -> Device:
    return Device.model_validate(
        {
            "name": name,
            "profileName": profile,
            "serviceName": "bench",
            "adminState": "UNLOCKED",
            "operatingState": "UP",
            "protocols": {
                "modbus-tcp": {"Address": "127.0.0.1", "Port": str(port), "UnitID": str(unit), "Timeout": "2s"}
            },
            "autoEvents": auto_events,
        }
    )


async def naive_rate(rt: DeviceRuntime, names: list[str], seconds: float) -> float:
    """One request per resource, sequentially: the per-point polling EdgeX device-modbus does."""
    readings, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for n in names:
            values, _ = await rt.read_values([n])
            event = rt.event(n, values)
            readings += len(event.readings) if event else 0
    return readings / (time.perf_counter() - t0)


async def poller_rate(rt: DeviceRuntime, seconds: float) -> tuple[float, float]:
    """Our poll loop: every resource due every cycle, coalesced into block reads."""
    count = 0

    async def publish(event: Event) -> None:
        nonlocal count
        count += len(event.readings)

    async def state(_d: str, _s: str) -> None:
        return None

    poller = DevicePoller(rt, publish, state)
    poller.start()
    await asyncio.sleep(0.5)  # warm-up
    c0, t0, cycles0 = count, time.perf_counter(), poller.stats.cycles
    await asyncio.sleep(seconds)
    rate = (count - c0) / (time.perf_counter() - t0)
    cycles = poller.stats.cycles - cycles0
    await poller.stop()
    return rate, cycles / seconds


async def part1(tmp: Path, seconds: float) -> float:
    doc = profile_doc("bench-240", N_RESOURCES, command=False)
    pfile = tmp / "bench-240.yaml"
    pfile.write_text(yaml.safe_dump(doc))
    profile = DeviceProfile.model_validate(doc)
    names = [r.name for r in profile.device_resources]
    with simulators(pfile, 1, 1) as (port,):
        pool = ConnectionPool()
        opts = ModbusOptions(pool=pool)
        aes = [{"interval": "1ms", "sourceName": n} for n in names]
        dev = device("bench-1", profile.name, port, 1, aes)
        rt = DeviceRuntime(dev, profile, create_driver(dev, profile, opts))
        blocks = len(rt.driver.plan(names))  # type: ignore[attr-defined]
        await naive_rate(rt, names[:20], 0.3)  # warm-up
        naive = await naive_rate(rt, names, seconds)
        ours, cycles = await poller_rate(rt, seconds)
        await pool.close()
    speedup = ours / naive
    print(f"part 1: {N_RESOURCES} resources, {blocks} block reads per cycle")
    print(f"  naive one-request-per-resource: {naive:10.0f} readings/s")
    print(f"  coalesced poller:               {ours:10.0f} readings/s ({cycles:.1f} cycles/s)")
    print(f"RESULT modbus_speedup {speedup:.1f} x (goal >= 5)")
    return speedup


async def part2(tmp: Path, seconds: float, n_devices: int = 100, per_device: int = 20) -> None:
    sims = 4
    doc = profile_doc("bench-20", per_device, command=True, input_registers=False)  # one block read per cycle
    pfile = tmp / "bench-20.yaml"
    pfile.write_text(yaml.safe_dump(doc))
    profile = DeviceProfile.model_validate(doc)
    with nats_server() as nport, endpoint_simulators(pfile, sims, n_devices // sims) as ports:
        bus = NatsBus(MessageBusSection(servers=[f"nats://127.0.0.1:{nport}"]), "bench", ServiceMetrics("bench"))
        for _ in range(100):
            try:
                await bus.connect()
                break
            except Exception:
                await asyncio.sleep(0.1)
        publisher = EventPublisher(bus, "edgewatch-ingest")
        count = 0

        async def publish(event: Event) -> None:
            nonlocal count
            await publisher(event)
            count += len(event.readings)

        async def state(_d: str, _s: str) -> None:
            return None

        pool = ConnectionPool()
        opts = ModbusOptions(pool=pool)
        pollers = []
        for i in range(n_devices):
            dev = device(
                f"dev-{i:03d}",
                profile.name,
                ports[i],
                1,
                [{"interval": "100ms", "sourceName": "All"}],
            )
            pollers.append(DevicePoller(DeviceRuntime(dev, profile, create_driver(dev, profile, opts)), publish, state))
        for p in pollers:
            p.start()
        await asyncio.sleep(2.0)  # connect and settle
        c0, t0, cpu0 = count, time.perf_counter(), time.process_time()
        await asyncio.sleep(seconds)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        rate = (count - c0) / wall
        for p in pollers:
            await p.stop()
        await pool.close()
        await bus.drain()
    target = n_devices * per_device * 10
    cores = cpu / wall
    per_1k = cores / (rate / 1000)
    print(
        f"part 2: {n_devices} devices x {per_device} resources at 10 Hz, own endpoint each ({sims} sim processes),"
        " events to NATS"
    )
    load = os.getloadavg()[0]
    print(f"  achieved {rate:.0f} readings/s of {target} scheduled, ingest process CPU {cores:.2f} cores")
    print(f"  host: {os.cpu_count()} CPUs, load average {load:.1f} (simulators and other work share the CPUs)")
    print(f"RESULT modbus_sustained_rate_ratio {rate / target:.2f} x (goal >= 0.95)")
    print(f"RESULT modbus_cpu_per_1k_readings_s {per_1k:.3f} cores (goal <= 0.05)")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter windows")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    with tempfile.TemporaryDirectory(prefix="ew-bench-modbus-") as d:
        await part1(Path(d), seconds)
        await part2(Path(d), 5.0 if args.quick else 10.0)


if __name__ == "__main__":
    asyncio.run(main())
