"""EtherCAT master benchmark: the ingest driver's cyclic master vs a bare pysoem send/receive loop, same line.

The line is the slave emulator (``python -m edgewatch.sim.ethercat``: a CoE drive and an SII-only I/O slave) on the
far end of a veth pair in a network namespace; the master runs here, on the host end (needs root).

- Bare loop: pysoem only (``config_init``, ``config_map``, OP, then ``send_processdata`` / ``receive_processdata``
  every cycle, paced like the master: sleep to the next deadline with 1 ns timer slack).
- Master: the ingest path: ``EtherCatDriver`` devices for both slaves on one ``EtherCatMaster`` (cyclic thread +
  supervisor thread), each polled by a ``DevicePoller`` every 10 ms on the asyncio loop of this process, with every
  event built (no bus: the events are counted), and an output written every 100 ms.

Order: bare for half the time, master for the whole time, bare for the other half, so both see the shared host's
load over the same span. Reported: cycle rate (master / bare), the fraction of master cycles whose working counter
was right, p99 period jitter of each (|actual period - cycle|, us) and overruns.

    .venv/bin/python bench/ethercat.py [--seconds 60] [--cycle-us 1000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pysoem

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.ingest.drivers.ethercat import EtherCatOptions, MasterPool, create_driver
from edgewatch.ingest.errors import DeviceIOError
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.ingest.scheduler import DevicePoller, PollerSettings
from edgewatch.protocols.ethercat.jitter import JitterHistogram, realtime, tight_timer_slack
from edgewatch.protocols.ethercat.master import MasterSettings

NS, MASTER_IF, SLAVE_IF = "ewbench", "ewbm0", "ewbs0"


def ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, timeout=10)


def start_line(log: Path, priority: int) -> subprocess.Popen[bytes]:
    stop_line(None)
    ip("netns", "add", NS)
    ip("link", "add", MASTER_IF, "type", "veth", "peer", "name", SLAVE_IF)
    ip("link", "set", SLAVE_IF, "netns", NS)
    with contextlib.suppress(OSError):
        Path(f"/proc/sys/net/ipv6/conf/{MASTER_IF}/disable_ipv6").write_text("1")
    ip("link", "set", MASTER_IF, "up")
    ip("netns", "exec", NS, "ip", "link", "set", SLAVE_IF, "up")
    with open(log, "ab") as out:
        rt = ["chrt", "-f", str(priority)] if priority else []
        cmd = ["ip", "netns", "exec", NS, *rt, sys.executable, "-m", "edgewatch.sim.ethercat", "--iface", SLAVE_IF]
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "ready" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"emulator did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return proc


def stop_line(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.terminate()
        proc.wait(10)
    ip("netns", "del", NS, check=False)
    ip("link", "del", MASTER_IF, check=False)


class Result:
    def __init__(self) -> None:
        self.cycles = 0
        self.wkc_ok = 0
        self.overruns = 0
        self.seconds = 0.0
        self.jitter = JitterHistogram()

    @property
    def rate(self) -> float:
        return self.cycles / self.seconds if self.seconds else 0.0


def bare_loop(seconds: float, cycle_us: int, into: Result, priority: int) -> None:
    """pysoem only: the baseline (in its own thread, scheduled like the master's cyclic thread)."""
    t = threading.Thread(target=_bare, args=(seconds, cycle_us, into, priority), name="bare cycle")
    t.start()
    t.join()


def _bare(seconds: float, cycle_us: int, into: Result, priority: int) -> None:
    tight_timer_slack()
    realtime(priority)
    m = pysoem.Master()
    m.always_release_gil = True
    m.open(MASTER_IF)
    try:
        if m.config_init() <= 0:
            raise RuntimeError("no slaves")
        m.config_map()
        m.state = pysoem.OP_STATE
        m.write_state()
        for _ in range(200):
            m.send_processdata()
            m.receive_processdata(2000)
            if m.state_check(pysoem.OP_STATE, 2000) == pysoem.OP_STATE:
                break
        expected = m.expected_wkc
        period = cycle_us * 1000
        start = deadline = time.monotonic_ns()
        end = start + int(seconds * 1e9)
        previous = 0
        while True:
            t = time.monotonic_ns()
            if t >= end:
                break
            if previous:
                into.jitter.add(abs(t - previous - period))
            previous = t
            m.send_processdata()
            wkc = m.receive_processdata(cycle_us)
            into.cycles += 1
            into.wkc_ok += wkc == expected
            deadline += period
            now = time.monotonic_ns()
            if now >= deadline:
                into.overruns += 1
                deadline = now
                continue
            time.sleep((deadline - now) / 1e9)
        into.seconds += (time.monotonic_ns() - start) / 1e9
        m.state = pysoem.INIT_STATE
        m.write_state()
    finally:
        m.close()


def _profile(name: str, rows: list[tuple[str, str, dict[str, Any], str]]) -> DeviceProfile:
    resources = [
        {"name": n, "attributes": a, "properties": {"valueType": vt, "readWrite": rw}} for n, vt, a, rw in rows
    ]
    return DeviceProfile.model_validate({"name": name, "deviceResources": resources})


def _device(name: str, profile: str, position: int, cycle_us: int) -> Device:
    props = {"Interface": MASTER_IF, "CycleTime": str(cycle_us), "Position": str(position)}
    return Device.model_validate(
        {
            "name": name,
            "profileName": profile,
            "serviceName": "edgewatch-ingest",
            "adminState": "UNLOCKED",
            "operatingState": "UP",
            "protocols": {"ethercat": props},
            "autoEvents": [{"interval": "10ms", "sourceName": ".*"}],
        }
    )


async def master_run(seconds: float, cycle_us: int, priority: int) -> tuple[Result, int, int]:
    """The ingest path; (result, events built, poll failures)."""
    drive = _profile(
        "bench-drive",
        [
            ("Velocity", "Int32", {"area": "input", "index": "0x606C"}, "R"),
            ("Status", "Uint16", {"area": "input", "index": "0x6041"}, "R"),
            ("Target", "Int32", {"area": "output", "index": "0x60FF"}, "RW"),
        ]
        + [(f"T{s}", "Uint8", {"area": "input", "index": "0x2001", "subindex": 2}, "R") for s in range(1, 2)],
    )
    io = _profile(
        "bench-io",
        [(f"DI{b}", "Bool", {"area": "input", "index": "0x6000", "subindex": b}, "R") for b in range(1, 9)]
        + [("AnalogIn", "Int16", {"area": "input", "index": "0x6010", "subindex": 1}, "R")],
    )
    options = EtherCatOptions(MasterPool(MasterSettings(priority=priority)))  # the service's defaults
    events = 0

    async def publish(_: Any) -> None:
        nonlocal events
        events += 1

    async def state(_: str, __: str) -> None:
        return None

    runtimes = []
    for pos, p in ((1, drive), (2, io)):
        dev = _device(f"bench-{pos}", p.name, pos, cycle_us)
        runtimes.append(DeviceRuntime(dev, p, create_driver(dev, p, options)))
    master = runtimes[0].driver.master  # type: ignore[attr-defined]
    await asyncio.to_thread(master.wait_ready, 60)
    for _ in range(3000):
        if not (master.health(1) or master.health(2)):
            break
        await asyncio.sleep(0.01)
    pollers = [DevicePoller(rt, publish, state, PollerSettings(backoff_max=0.1)) for rt in runtimes]
    for p in pollers:
        p.start()
    stats = await asyncio.to_thread(master.fetch_stats)
    c0, e0, o0 = stats.cycles, stats.wkc_errors, stats.overruns
    jitter0 = list(stats.jitter.counts)
    t0 = time.monotonic()
    n = write_failures = 0
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(0.1)
        n += 1
        try:
            await runtimes[0].driver.write({"Target": n})
        except DeviceIOError:
            write_failures += 1
    result = Result()
    result.seconds = time.monotonic() - t0
    stats = await asyncio.to_thread(master.fetch_stats)
    result.cycles = stats.cycles - c0
    result.wkc_ok = result.cycles - (stats.wkc_errors - e0)
    result.overruns = stats.overruns - o0
    result.jitter.counts = [a - b for a, b in zip(stats.jitter.counts, jitter0, strict=True)]
    failures = sum(p.stats.failures for p in pollers) + write_failures
    for p in pollers:
        await p.stop()
    for rt in runtimes:
        await rt.driver.close()
    await options.pool.close()
    return result, events, failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--cycle-us", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    ap.add_argument(
        "--priority",
        type=int,
        default=0,
        help="SCHED_FIFO priority for both cyclic threads and the emulator (0: normal scheduling, the default)",
    )
    args = ap.parse_args()
    seconds = 10.0 if args.quick else args.seconds
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("SKIP ethercat bench: needs root and iproute2 (netns, veth, raw sockets)")
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="ewbench"))
    proc = start_line(workdir / "sim.log", args.priority)
    try:
        bare = Result()
        bare_loop(seconds / 2, args.cycle_us, bare, args.priority)
        master, events, failures = asyncio.run(master_run(seconds, args.cycle_us, args.priority))
        bare_loop(seconds / 2, args.cycle_us, bare, args.priority)
    finally:
        stop_line(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    b99, m99 = bare.jitter.percentile(99), master.jitter.percentile(99)
    for name, r in (("bare", bare), ("master", master)):
        j = r.jitter
        print(
            f"{name}: {r.cycles} cycles in {r.seconds:.1f} s ({r.rate:.1f}/s), wkc ok {r.wkc_ok / r.cycles:.5f}, "
            f"overruns {r.overruns}, jitter p50/p99/p99.9 {j.percentile(50)}/{j.percentile(99)}/{j.percentile(99.9)} us"
        )
    print(f"master side: {events} events built, {failures} failed polls/writes")
    print(f"scheduling: {'SCHED_FIFO ' + str(args.priority) if args.priority else 'normal (SCHED_OTHER, nice 0)'}")
    print(f"RESULT ethercat_cycle_rate_vs_bare {master.rate / bare.rate:.3f} ratio (goal >= 0.95)")
    print(f"RESULT ethercat_wkc_ok {master.wkc_ok / master.cycles:.5f} ratio (goal >= 0.999)")
    print(f"RESULT ethercat_jitter_p99 {m99} us (goal <= {2 * b99} = 2x bare p99 {b99} us; drives without DC: 100 us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
