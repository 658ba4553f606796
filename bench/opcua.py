"""OPC UA ingest benchmark: data changes through ingest into EdgeX events on NATS vs a bare asyncua client, and
5,000 monitored items at 1 s sampling on one endpoint.

Every party is its own process: the simulator (``python -m edgewatch.sim.opcua --bulk N``: N Double variables,
all changed every ``--bulk-interval``), nats-server, the real ingest service (``python -m edgewatch.ingest``, its
devices subscribing to the bulk variables) and the baseline, a bare asyncua client (``Client.create_subscription``,
iterator mode, the same items with the same sampling interval, queue size and publishing interval).

Part 1 subscribes ingest and the bare client to the same 2,000 items at the same time, changed as fast as the
simulator can (every 100 ms at most), and counts over the same windows the notifications/s the bare client receives
and the EdgeX events/s ingest publishes to NATS (counted by nats-server, ``/varz`` in_msgs), with each one's CPU.
Measured side by side, both see the same server and the same neighbours on a shared host; measured one after the
other, the simulator's own rate and the host's load differ between the phases and decide the ratio.
Part 2 subscribes 5,000 items at 1 s sampling on one endpoint (10 devices x 500) and reports the delivered rate,
the lag from the device's source timestamp to the event on NATS, and the ingest process's CPU (psutil, user+system
over the window, in cores).

    .venv/bin/python bench/opcua.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import yaml

HERE = Path(__file__).resolve()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port}") from None
            time.sleep(0.1)


def cpus(role: str) -> set[int] | None:
    """CPU pinning: the simulator on the first CPU, every consumer (and nats-server) on the others, so a busy
    consumer does not slow the server that feeds it (None: no pinning on this host)."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return None
    n = os.cpu_count() or 2
    return {0} if role == "server" else set(range(1, n))


@contextlib.contextmanager
def process(
    args: list[str], env: dict[str, str] | None = None, log: Path | None = None, role: str = "consumer"
) -> Iterator[subprocess.Popen]:  # type: ignore[type-arg]
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    pin = cpus(role)
    if pin is not None:
        os.sched_setaffinity(proc.pid, pin)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if log:
            out.close()  # type: ignore[union-attr]


@contextlib.contextmanager
def nats_server() -> Iterator[tuple[int, int]]:
    port, monitor = free_port(), free_port()
    binary = str(Path(sys.executable).parent / "nats-server")
    with process([binary, "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)]):
        wait_port(port)
        yield port, monitor


def nats_in_msgs(monitor: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=5) as r:
        return int(json.load(r)["in_msgs"])


@contextlib.contextmanager
def simulator(items: int, interval: float, tmp: Path) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "edgewatch.sim.opcua", "--no-plant", "--port", str(port)]
    args += ["--bulk", str(items), "--bulk-interval", str(interval)]
    with process(args, log=tmp / "sim.log", role="server"):
        wait_port(port, 60)
        yield f"opc.tcp://127.0.0.1:{port}/edgewatch/sim"


def definitions(
    tmp: Path, endpoint: str, devices: int, per_device: int, sampling_ms: float, publish: str, queue: int = 1
) -> Path:
    """Profiles and devices for ``devices`` x ``per_device`` monitored bulk variables."""
    root = tmp / f"defs-{devices}x{per_device}"
    (root / "profiles").mkdir(parents=True)
    (root / "devices").mkdir()
    device_list = []
    for d in range(devices):
        resources = [
            {
                "name": f"R{i:05d}",
                "attributes": {
                    "nodeId": f"ns=2;s=Bulk.R{i:05d}",
                    "samplingInterval": sampling_ms,
                    "queueSize": queue,
                },
                "properties": {"valueType": "Float64", "readWrite": "R"},
            }
            for i in range(d * per_device, (d + 1) * per_device)
        ]
        profile = {"name": f"bulk-{d}", "deviceResources": resources}
        (root / "profiles" / f"bulk-{d}.yaml").write_text(yaml.safe_dump(profile))
        protocols = {"opcua": {"Endpoint": endpoint, "PublishingInterval": publish}}
        device_list.append({"name": f"line-{d}", "profileName": f"bulk-{d}", "protocols": protocols})
    (root / "devices" / "devices.yaml").write_text(yaml.safe_dump({"deviceList": device_list}))
    return root


@contextlib.contextmanager
def ingest(defs: Path, nats_port: int, tmp: Path) -> Iterator[psutil.Process]:
    env = {
        "MESSAGEBUS_HOST": "127.0.0.1",
        "MESSAGEBUS_PORT": str(nats_port),
        "SERVICE_PORT": str(free_port()),
        "EDGEWATCH_DATA_DIR": str(tmp / "data"),
        "DEVICE_PROFILESDIR": str(defs / "profiles"),
        "DEVICE_DEVICESDIR": str(defs / "devices"),
        "WRITABLE_LOGLEVEL": "WARNING",
    }
    tmp.mkdir(parents=True, exist_ok=True)
    with process([sys.executable, "-m", "edgewatch.ingest"], env, tmp / "ingest.log") as proc:
        yield psutil.Process(proc.pid)


# --- the baseline: a bare asyncua subscription client (run as `bench/opcua.py --raw ...`) ------------------------


async def raw_client(
    endpoint: str, items: int, sampling_ms: float, publish_ms: float, warmup: float, window: float, queue: int = 1
) -> None:
    from asyncua import Client, ua

    client = Client(endpoint, timeout=10, watchdog_intervall=5.0)  # ingest's liveness probe, for a fair comparison
    await client.connect()
    params = ua.CreateSubscriptionParameters()
    params.RequestedPublishingInterval = publish_ms
    params.RequestedMaxKeepAliveCount = max(1, int(5000 / publish_ms))
    params.RequestedLifetimeCount = max(3 * params.RequestedMaxKeepAliveCount, int(60000 / publish_ms))
    params.MaxNotificationsPerPublish = 0
    params.PublishingEnabled = True
    sub = await client.create_subscription(params, None, queue_maxsize=10_000_000)
    nodes = [client.get_node(ua.NodeId(f"Bulk.R{i:05d}", 2)) for i in range(items)]
    for i in range(0, items, 1000):
        await sub.subscribe_data_change(nodes[i : i + 1000], queuesize=queue, sampling_interval=sampling_ms)
    count = 0

    async def consume() -> None:
        nonlocal count
        async for _event in sub:
            count += 1

    task = asyncio.create_task(consume())
    step = client.get_node(ua.NodeId("Bulk.Step", 2))

    async def mark() -> tuple[int, float, float, int]:
        return count, time.perf_counter(), time.process_time(), int(await step.read_value())

    if window > 0:  # one timed window
        await asyncio.sleep(warmup)
        marks = [await mark()]
        await asyncio.sleep(window)
        marks.append(await mark())
    else:  # windows marked by the parent: a line on stdin per mark, "stop" to end
        print("ready", flush=True)
        marks = []
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "mark":
            marks.append(await mark())
    task.cancel()
    for (c0, t0, cpu0, s0), (c1, t1, cpu1, s1) in itertools.pairwise(marks):
        result = {
            "rate": (c1 - c0) / (t1 - t0),
            "cores": (cpu1 - cpu0) / (t1 - t0),
            "offered": (s1 - s0) * items / (t1 - t0),
        }
        print(json.dumps(result), flush=True)
    with contextlib.suppress(Exception):
        await client.disconnect()


def run_raw(
    endpoint: str, items: int, sampling_ms: float, publish_ms: float, warmup: float, window: float, queue: int = 1
) -> dict[str, float]:
    args = [sys.executable, str(HERE), "--raw", endpoint, str(items), str(sampling_ms), str(publish_ms)]
    args += [str(warmup), str(window), str(queue)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=warmup + window + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the bare asyncua client failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- part 1 -----------------------------------------------------------------------------------------------------


def part1(tmp: Path, window: float, rounds: int, interval: float = 0.1) -> float:
    """Ingest and the bare client subscribe to the same items at the same time and are measured over the same
    windows, so both see the same server and the same neighbours on the host."""
    items = 2000
    raw: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    with nats_server() as (nport, monitor), simulator(items, interval, tmp) as endpoint:
        defs = definitions(tmp, endpoint, 1, items, 0, "100ms")
        with ingest(defs, nport, tmp / "ingest") as proc:
            deadline = time.monotonic() + 60
            while nats_in_msgs(monitor) < items and time.monotonic() < deadline:  # subscribed and publishing
                time.sleep(0.5)
            args = [sys.executable, str(HERE), "--raw", endpoint, str(items), "0", "100", "0", "0", "1"]
            client = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert client.stdin is not None and client.stdout is not None
            try:
                if client.stdout.readline().strip() != "ready":
                    raise RuntimeError("the bare asyncua client did not start")
                time.sleep(4.0)  # both warm
                marks = []
                for _ in range(rounds + 1):
                    client.stdin.write("mark\n")
                    client.stdin.flush()
                    cpu = proc.cpu_times()
                    marks.append((nats_in_msgs(monitor), time.perf_counter(), cpu.user + cpu.system))
                    if len(marks) <= rounds:
                        time.sleep(window)
                client.stdin.write("stop\n")
                client.stdin.flush()
                raw = [json.loads(line) for line in client.stdout.read().splitlines() if line.startswith("{")]
            finally:
                client.wait(30)
    for (m0, t0, c0), (m1, t1, c1) in itertools.pairwise(marks):
        ours.append({"rate": (m1 - m0) / (t1 - t0), "cores": (c1 - c0) / (t1 - t0)})
    ratio = sum(x["rate"] for x in ours) / sum(x["rate"] for x in raw)
    print(
        f"part 1: {items} items, all changed every {interval * 1000:.0f} ms if the server keeps up; 100 ms publishing"
    )
    print("  ingest (EdgeX events to NATS) and a bare asyncua client subscribed to them at the same time:")
    for i, (a, b) in enumerate(zip(raw, ours, strict=True)):
        print(
            f"  window {i + 1}: server changed {a['offered']:7.0f}/s | bare asyncua {a['rate']:7.0f} notifications/s"
            f" ({a['cores']:.2f} cores) | ingest -> NATS {b['rate']:7.0f} events/s ({b['cores']:.2f} cores)"
        )
    raw_cost = sum(x["cores"] for x in raw) / sum(x["rate"] for x in raw) * 1000
    our_cost = sum(x["cores"] for x in ours) / sum(x["rate"] for x in ours) * 1000
    print(
        f"  CPU per 1k notifications/s: bare asyncua {raw_cost:.3f} cores, ingest (decode, EdgeX event, NATS)"
        f" {our_cost:.3f} cores; at that cost one core would carry ~{1000 / our_cost:.0f} events/s (extrapolated)"
    )
    print(f"  host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; the simulator is pinned to CPU 0")
    print(f"RESULT opcua_vs_raw_asyncua {ratio:.2f} ratio (goal >= 0.8)")
    return ratio


# --- part 2 -----------------------------------------------------------------------------------------------------


async def watch_steps(endpoint: str, nats_port: int, monitor: int, steps: int, lag_subject: str) -> dict[str, Any]:
    """Between two changes of ``Bulk.Step`` ``steps`` apart: NATS messages counted at both edges (so the window
    holds whole steps of changes), and the lag of every event of ``lag_subject`` from its source timestamp."""
    import nats
    from asyncua import Client, ua

    lags: list[float] = []
    nc = await nats.connect(f"nats://127.0.0.1:{nats_port}")

    async def on(msg: Any) -> None:
        lags.append(time.time() - json.loads(msg.data)["event"]["origin"] / 1e9)

    loop = asyncio.get_running_loop()
    async with Client(endpoint, timeout=10, watchdog_intervall=5.0) as client:
        node = client.get_node(ua.NodeId("Bulk.Step", 2))

        async def edge(after: int) -> tuple[int, int, float]:
            while True:  # polled: the step is a value on the server, not an event here
                step = int(await node.read_value())
                if step > after:
                    return step, await loop.run_in_executor(None, nats_in_msgs, monitor), time.perf_counter()
                await asyncio.sleep(0.01)

        first = int(await node.read_value())
        s0, m0, t0 = await edge(first)
        await nc.subscribe(lag_subject, cb=on)
        s1, m1, t1 = await edge(s0 + steps - 1)
    await nc.close()
    return {"events": m1 - m0, "steps": s1 - s0, "seconds": t1 - t0, "lags": lags}


def part2(tmp: Path, window: float) -> None:
    items, devices = 5000, 10
    with nats_server() as (nport, monitor), simulator(items, 1.0, tmp) as endpoint:
        # queue size 2: a change period equal to the publishing interval puts two changes into some intervals
        # (timer jitter); with queue size 1 the first would be overwritten by design, which is not ingest losing it
        raw = run_raw(endpoint, items, 1000, 1000, 8.0, window, queue=2)
        defs = definitions(tmp, endpoint, devices, items // devices, 1000, "1s", queue=2)
        with ingest(defs, nport, tmp / "ingest-5000") as proc:
            time.sleep(8.0)  # connect, 10 subscriptions x 500 items, first values
            cpu0, c0 = proc.cpu_times(), time.perf_counter()
            subject = "edgex.events.device.edgewatch-ingest.bulk-0.line-0.>"
            got = asyncio.run(watch_steps(endpoint, nport, monitor, int(window), subject))
            cpu1, c1 = proc.cpu_times(), time.perf_counter()
            rss = proc.memory_info().rss / 2**20
    changes = got["steps"] * items
    rate = got["events"] / got["seconds"]
    cores = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (c1 - c0)
    lags = sorted(got["lags"])
    p50 = lags[len(lags) // 2] if lags else float("nan")
    p99 = lags[int(len(lags) * 0.99)] if lags else float("nan")
    print(
        f"part 2: {items} monitored items at 1 s sampling (1 s publishing, queue size 2), one endpoint,"
        f" {devices} devices x {items // devices}"
    )
    print(
        f"  over {got['steps']} whole simulator steps ({got['seconds']:.1f} s): {changes} changes,"
        f" {got['events']} EdgeX events on NATS ({rate:.0f} events/s)"
    )
    print(
        f"  ingest process CPU {cores:.2f} cores ({cores * 100:.0f} % of one core; psutil user+system),"
        f" RSS {rss:.0f} MiB"
    )
    print(f"  source timestamp -> event on NATS (device line-0, {len(lags)} events): p50 {p50:.3f} s, p99 {p99:.3f} s")
    print(
        f"  bare asyncua client, same 5000 items (before ingest): {raw['rate']:.0f} notifications/s of"
        f" {raw['offered']:.0f} changes/s, {raw['cores']:.2f} cores"
    )
    print(
        f"  host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (simulator and nats-server share them)"
    )
    print(f"RESULT opcua_5000_items_delivered_ratio {got['events'] / changes:.2f} x (goal >= 0.95)")
    print(f"RESULT opcua_5000_items_ingest_cpu {cores:.2f} cores (goal <= 1.0)")
    print(f"RESULT opcua_5000_items_lag_p99 {p99:.2f} s (goal <= 1.5: one 1 s publishing interval + 0.5 s)")


def main() -> None:
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    if len(sys.argv) > 1 and sys.argv[1] == "--raw":
        endpoint, items, sampling, publish, warmup, window, queue = sys.argv[2:9]
        pin = cpus("consumer")
        if pin is not None:
            os.sched_setaffinity(0, pin)
        asyncio.run(
            raw_client(endpoint, int(items), float(sampling), float(publish), float(warmup), float(window), int(queue))
        )
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter windows, one round")
    ap.add_argument("--part", type=int, choices=(1, 2), help="run one part only")
    ap.add_argument("--interval", type=float, default=0.1, help="part 1: seconds between changes of all 2000 items")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ew-bench-opcua-") as d:
        if args.part in (None, 1):
            part1(Path(d), 5.0 if args.quick else 10.0, 1 if args.quick else 2, args.interval)
        if args.part in (None, 2):
            part2(Path(d), 10.0 if args.quick else 20.0)


if __name__ == "__main__":
    main()
