"""Hostile input against running services: answer times, what the event loop feels, and a zstd bomb's memory.

Real processes, real HTTP: ``python -m edgewatch.core`` (all three APIs in one process, the harder case, and split
as compose and Helm run it: core-command in a process of its own; ``edgewatch up`` runs the first) on a nats-server,
with a device service answering SET commands on the bus in this process; ``python -m edgewatch.receiver``. Default
settings throughout (Service.MaxRequestSize 1024 KB, Receiver.MaxDecodedBytes 64 MiB).

- alias bomb: the 1 KB, nine-level "billion laughs" profile to POST /deviceprofile/uploadfile (400); the first
  upload also starts the parse worker.
- 30 MB profile upload (413 at the default limit).
- while each attack runs back to back, a prober pings core-metadata and core-command and forwards a SET command
  through core-command (REST) to the device service; its worst round trip is compared with an idle baseline.
- the largest bodies the default limit admits show the residual loop hold of valid input: a 1 MiB JSON device
  list (FastAPI validates JSON bodies on the loop) and a 1 MiB YAML profile (parsed in the worker; the profile is
  then stored and indexed on the loop); with core-command apart, commands feel neither.
- each service process reports how long its loop was held (``edgewatch_event_loop_hold_seconds``: timer lateness
  capped by the loop thread's CPU time, so a busy shared machine's scheduling delays are left out) and how late
  it ran timers at all (``..._lag_seconds``); the worst bucket of each phase is printed.
- zstd bomb: 1 GiB of zeros in ~32 KB without a declared size, to POST /api/v3/sync/batch; peak RSS (VmHWM) of
  the receiver process and of its parse worker, before and after.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import psutil
import zstandard
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts import topics
from edgewatch.common.service.metrics import ServiceMetrics

MB = 1024 * 1024
BOMBS = 20
LARGE = 10
PROBE_BASELINE = 200


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alias_bomb(levels: int = 9, width: int = 9, pad: int = 12) -> bytes:
    """The nine-level billion-laughs profile (about 1 KB); 387 million nodes when expanded."""
    leaf = "lol" * pad
    lines = ["name: bomb", f"a0: &a0 [{', '.join([leaf] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    lines.append(f"deviceResources: *a{levels}")
    return ("\n".join(lines) + "\n").encode()


def zstd_bomb(decoded: int) -> bytes:
    """A zstd frame of ``decoded`` zero bytes that leaves its size out of the header."""
    c = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
    out = [c.compress(bytes(MB)) for _ in range(decoded // MB)]
    return b"".join([*out, c.flush()])


class Proc:
    """A service process started with an environment; waits for ping."""

    def __init__(self, module: str, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        with open(log, "ab") as f:
            self.p = subprocess.Popen([sys.executable, "-m", module], env={**os.environ, **env}, stdout=f, stderr=f)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{module} did not start: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


async def _device_service(bus: NatsBus) -> None:
    async def on(msg: Msg) -> None:
        await edgex_respond(bus, decode_envelope(msg), responder="svc")

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=on)
    await bus.nc.flush()


async def _probe(c: httpx.AsyncClient, meta: int, cmd: int) -> float:
    """One probe round: ping both APIs and forward a SET; its duration (raises on any failure)."""
    t0 = time.perf_counter()
    for port in (meta, cmd):
        r = await c.get(f"http://127.0.0.1:{port}/api/v3/ping")
        r.raise_for_status()
    r = await c.put(f"http://127.0.0.1:{cmd}/api/v3/device/name/d1/sw", json={"sw": "true"})
    r.raise_for_status()
    return time.perf_counter() - t0


async def _under(c: httpx.AsyncClient, meta: int, cmd: int, attack: Any) -> tuple[list[float], list[float]]:
    """Run ``attack()`` (a list of answer times) while probing; (attack times, probe times)."""
    probes: list[float] = []
    done = asyncio.Event()

    async def prober() -> None:
        while not done.is_set():
            probes.append(await _probe(c, meta, cmd))

    task = asyncio.create_task(prober())
    try:
        times = await attack()
    finally:
        done.set()
        await task
    return times, probes


async def _lag(c: httpx.AsyncClient, port: int, metric: str = "hold") -> dict[float, float]:
    """The cumulative loop hold (or lag) histogram of the service on ``port`` (le -> count)."""
    text = (await c.get(f"http://127.0.0.1:{port}/metrics")).text
    out = {}
    for line in text.splitlines():
        if line.startswith(f"edgewatch_event_loop_{metric}_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def _worst(before: dict[float, float], after: dict[float, float]) -> str:
    """The bucket bound the worst loop hold between two reads fell under, and how many samples there were."""
    new = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = new[float("inf")]
    bound = next(le for le, n in new.items() if n == total)
    return f"<= {bound * 1e3:g} ms ({total:.0f} samples)"


async def _core(layout: str, nats_port: int, tmp: Path) -> None:
    meta, data, cmd = _port(), _port(), _port()
    base = {
        "EDGEWATCH_DATA_DIR": str(tmp / f"core-{layout}"),
        "MESSAGEBUS_HOST": "127.0.0.1",
        "MESSAGEBUS_PORT": str(nats_port),
        "CORE_METADATAPORT": str(meta),
        "CORE_DATAPORT": str(data),
        "CORE_COMMANDPORT": str(cmd),
        "WRITABLE_LOGLEVEL": "ERROR",
    }
    procs = (
        [("[metadata, data, command]", meta)]
        if layout == "one-process"
        else [("[metadata, data]", meta), ("[command]", cmd)]
    )
    started = [
        Proc("edgewatch.core", {**base, "CORE_APIS": apis, "SERVICE_PORT": str(port)}, port, tmp / f"core-{i}.log")
        for i, (apis, port) in enumerate(procs)
    ]
    bus = NatsBus(MessageBusSection(port=nats_port), f"bench-{layout}", ServiceMetrics("bench"))
    await bus.connect()
    try:
        await _device_service(bus)
        await _measure_core(layout, meta, cmd)
    finally:
        await bus.drain()
        for p in reversed(started):
            p.stop()


async def _measure_core(layout: str, meta: int, cmd: int) -> None:
    url = f"http://127.0.0.1:{meta}/api/v3"
    async with httpx.AsyncClient(timeout=300) as c:
        await c.post(f"{url}/deviceservice", json=[{"apiVersion": "v3", "service": _svc()}])
        await c.post(f"{url}/deviceprofile", json=[{"apiVersion": "v3", "profile": _profile()}])
        await c.post(f"{url}/device?bypassValidation=true", json=[{"apiVersion": "v3", "device": _dev("d1")}])
        idle = [await _probe(c, meta, cmd) for _ in range(PROBE_BASELINE)]

        async def upload(doc: bytes, status: int) -> float:
            t0 = time.perf_counter()
            r = await c.post(f"{url}/deviceprofile/uploadfile", files={"file": ("p.yaml", doc)})
            took = time.perf_counter() - t0
            assert r.status_code == status, (r.status_code, r.text[:300])
            return took

        bomb = alias_bomb()
        first = await upload(bomb, 400)

        async def bombs() -> list[float]:
            return [await upload(bomb, 400) for _ in range(BOMBS)]

        huge = b"name: huge\ndescription: " + b"x" * (30 * MB) + b"\n"

        async def large() -> list[float]:
            return [await upload(huge, 413) for _ in range(LARGE)]

        devices = [{"apiVersion": "v3", "device": _dev(f"x{i}")} for i in range(7000)]
        body = json.dumps(devices[: int(7000 * 0.98 * MB / len(json.dumps(devices)))]).encode()  # just under 1 MiB

        async def json_max() -> list[float]:
            out = []
            for i in range(3):
                t0 = time.perf_counter()
                r = await c.post(
                    f"{url}/device?bypassValidation=true",
                    content=body.replace(b'"x', f'"r{i}x'.encode()),
                    headers={"content-type": "application/json"},
                )
                assert r.status_code == 207, r.text[:300]
                out.append(time.perf_counter() - t0)
            return out

        lags: dict[str, str] = {}
        procs = {"core": meta} if meta == cmd or layout == "one-process" else {"core": meta, "core_command": cmd}

        async def phase(name: str, attack: Any) -> tuple[list[float], list[float]]:
            before = {(proc, m): await _lag(c, port, m) for proc, port in procs.items() for m in ("hold", "lag")}
            out = await _under(c, meta, cmd, attack)
            for proc, port in procs.items():
                for m in ("hold", "lag"):
                    lags[f"{m}_max_during_{name}_in_{proc}"] = _worst(before[proc, m], await _lag(c, port, m))
            return out

        def profile_yaml(i: int) -> bytes:
            head = f"name: big-{i}\ndeviceResources:\n"
            res = (
                "  - {{name: r{n}, attributes: {{primaryTable: HOLDING_REGISTERS, startingAddress: {n}}},"
                " properties: {{valueType: Float32, readWrite: RW, units: C}}}}\n"
            )
            lines, size, n = [head], len(head), 0
            while size < 0.98 * MB:
                line = res.format(n=n)
                lines.append(line)
                size, n = size + len(line), n + 1
            return "".join(lines).encode()

        async def yaml_max() -> list[float]:
            return [await upload(profile_yaml(i), 201) for i in range(3)]

        b_times, b_probes = await phase("alias_bombs", bombs)
        l_times, l_probes = await phase("30mb_uploads", large)
        j_times, j_probes = await phase("1mib_json", json_max)
        y_times, y_probes = await phase("1mib_yaml", yaml_max)
    tag = layout.replace("-", "_")
    print(f"RESULT {tag}_alias_bomb_first_answer {first * 1e3:.0f} ms (goal < 1000; starts the parse worker)")
    print(f"RESULT {tag}_alias_bomb_answer_median {statistics.median(b_times) * 1e3:.1f} ms (goal < 1000)")
    print(f"RESULT {tag}_alias_bomb_answer_max {max(b_times) * 1e3:.1f} ms (goal < 1000)")
    print(f"RESULT {tag}_30mb_upload_413_median {statistics.median(l_times) * 1e3:.0f} ms (goal < 1000)")
    print(f"RESULT {tag}_30mb_upload_413_max {max(l_times) * 1e3:.0f} ms (goal < 1000)")
    print(f"RESULT {tag}_probe_idle_max {max(idle) * 1e3:.1f} ms (baseline; {len(idle)} rounds)")
    print(f"RESULT {tag}_probe_max_during_alias_bombs {max(b_probes) * 1e3:.1f} ms ({len(b_probes)} rounds, all ok)")
    print(f"RESULT {tag}_probe_max_during_30mb_uploads {max(l_probes) * 1e3:.1f} ms ({len(l_probes)} rounds, all ok)")
    print(f"RESULT {tag}_json_1mib_device_post {statistics.median(j_times) * 1e3:.0f} ms ({len(body)} bytes, 207)")
    print(f"RESULT {tag}_probe_max_during_1mib_json {max(j_probes) * 1e3:.1f} ms ({len(j_probes)} rounds, all ok)")
    print(
        f"RESULT {tag}_yaml_1mib_profile_upload {statistics.median(y_times) * 1e3:.0f} ms (201, parsed in the worker)"
    )
    print(f"RESULT {tag}_probe_max_during_1mib_yaml {max(y_probes) * 1e3:.1f} ms ({len(y_probes)} rounds, all ok)")
    for key, text in lags.items():
        print(f"RESULT {tag}_loop_{key} {text}")


def _svc() -> dict[str, Any]:
    return {"name": "svc", "baseAddress": "http://127.0.0.1:1", "adminState": "UNLOCKED"}


def _profile() -> dict[str, Any]:
    return {
        "name": "P",
        "deviceResources": [{"name": "sw", "properties": {"valueType": "Bool", "readWrite": "RW"}}],
    }


def _dev(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "serviceName": "svc",
        "profileName": "P",
        "adminState": "UNLOCKED",
        "operatingState": "UP",
        "protocols": {"modbus-tcp": {"Address": "127.0.0.1", "Port": "502", "UnitID": "1"}},
    }


def _hwm(p: psutil.Process) -> int:
    with open(f"/proc/{p.pid}/status", encoding="ascii") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


async def _receiver(tmp: Path) -> None:
    port = _port()
    env = {
        "SERVICE_PORT": str(port),
        "RECEIVER_DBPATH": str(tmp / "r.db"),
        "EDGEWATCH_DATA_DIR": str(tmp / "recv"),
        "WRITABLE_LOGLEVEL": "ERROR",
    }
    proc = Proc("edgewatch.receiver", env, port, tmp / "receiver.log")
    headers = {"Content-Type": "application/vnd.edgewatch.sync-batch+msgpack", "Content-Encoding": "zstd"}
    try:
        main = psutil.Process(proc.p.pid)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as c:
            warm = await c.post("/api/v3/sync/batch", content=zstd_bomb(2 * MB), headers=headers)
            assert warm.status_code == 400, warm.text
            (worker,) = [p for p in main.children() if "spawn_main" in " ".join(p.cmdline())]
            main0, worker0 = _hwm(main), _hwm(worker)
            bomb = zstd_bomb(1 << 30)
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                r = await c.post("/api/v3/sync/batch", content=bomb, headers=headers)
                times.append(time.perf_counter() - t0)
                assert r.status_code == 413, r.text
            main1, worker1 = _hwm(main), _hwm(worker)
        print(f"RESULT zstd_bomb_compressed_bytes {len(bomb)} bytes (decodes to 1 GiB, size undeclared)")
        print(f"RESULT zstd_bomb_answer_413_max {max(times) * 1e3:.0f} ms (goal < 1000)")
        print(f"RESULT zstd_bomb_receiver_peak_rss_growth {(main1 - main0) / MB:.1f} MiB (goal < 16)")
        print(f"RESULT zstd_bomb_worker_peak_rss_growth {(worker1 - worker0) / MB:.1f} MiB (goal <= 64 + 1)")
        print(f"RESULT zstd_bomb_worker_peak_rss {worker1 / MB:.1f} MiB (after imports: {worker0 / MB:.1f})")
    finally:
        proc.stop()


def _nats(store: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A nats-server configured as ``edgewatch up`` configures it (max_payload 8MB)."""
    port = _port()
    store.mkdir(parents=True, exist_ok=True)
    conf = store / "nats.conf"
    conf.write_text(f'host: "127.0.0.1"\nport: {port}\nmax_payload: 8MB\njetstream {{ store_dir: "{store}" }}\n')
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "nats-server"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return server, port


async def run(tmp: Path) -> None:
    for layout in ("one-process", "command-apart"):
        server, port = _nats(tmp / f"nats-{layout}")  # a fresh store: no metadata left from the other layout
        try:
            await _core(layout, port, tmp)
        finally:
            server.terminate()
            server.wait(10)
    await _receiver(tmp)


def main() -> None:
    asyncio.run(run(Path(tempfile.mkdtemp(prefix="ew-bench-hardening-"))))


if __name__ == "__main__":
    main()
