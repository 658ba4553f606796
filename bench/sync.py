"""Sync drain rate vs JetStream pipelined publish rate, and uplink bytes vs raw EdgeX JSON.

One run, one nats-server (file store), subprocesses for the services:
1. The sync class streams are created (``ensure_streams``, as the service does) and N EdgeX events (an
   AddEventRequest JSON each in an EdgeX ``nats``-format envelope with its five headers, as edgewatch-ingest
   publishes them: ids derived by ``contracts.ids``, three readings; ``BENCH_SYNC_IDS=random``: the Go SDK's
   random UUIDs; ``BENCH_SYNC_HEADERS=content-type``: a Content-Type header only) are published with
   nats-py ``publish_async`` pipelining (every PubAck awaited): the JetStream publish rate, which also builds a
   backlog of N messages while no uploader runs.
2. ``python -m edgewatch.receiver`` (subprocess, SQLite synchronous=FULL) and ``python -m edgewatch.sync``
   (subprocess, HTTP sink, default batching) start; the drain rate is the receiver's event count growth, polled
   every 200 ms, from the first record to the N-th (process start-up excluded).
3. Uplink bytes are sync's compressed batch bodies (``edgewatch_sync_wire_bytes_total``) over the summed size of
   the raw EdgeX JSON of the same events. For reference the script also prints the share of the raw JSON that is
   id entropy for both id schemes: none for derived ids; 16 bytes per event/reading/request id for the Go SDK's
   random UUIDs, which no lossless encoding can go below (sync's event codec carries those as 16 raw bytes).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nats

from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for, request_id_for
from edgewatch.suite.natsconf import NatsServerConf, nats_server_binary
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.streams import ensure_streams

N = int(os.environ.get("BENCH_SYNC_N", "100000"))
DEVICES = 10
_MINIMAL_HEADERS = os.environ.get("BENCH_SYNC_HEADERS", "envelope") == "content-type"
"""``BENCH_SYNC_HEADERS=content-type``: only a Content-Type header (lighter on both sides than the envelope's five)."""
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Message = tuple[str, bytes, dict[str, str]]


def _events(n: int, *, derived_ids: bool = True) -> list[Message]:
    """What edgewatch-ingest publishes (ids from contracts.ids); ``derived_ids=False``: Go-SDK random UUIDs.

    Like ``ingest.messaging.EventPublisher``: the AddEventRequest JSON as the body of an EdgeX message envelope
    in the ``nats`` format (CorrelationID, Content-Type, RequestId, ApiVersion and ErrorCode headers).
    """
    out = []
    t0 = time.time_ns()
    for i in range(n):
        dev = f"pump-{i % DEVICES}"
        origin = t0 + i * 1_000_000
        eid = event_id_for(dev, "all", origin) if derived_ids else None

        def rid(k: int, eid: str | None = eid) -> str | None:
            return None if eid is None else reading_id_for(eid, k)

        readings = [
            Reading.simple(dev, "pump", "Flow", "Float32", 20.0 + (i % 97) / 8, origin=origin, id=rid(0)),
            Reading.simple(dev, "pump", "Pressure", "Float32", 3.0 + (i % 13) / 4, origin=origin, id=rid(1)),
            Reading.simple(dev, "pump", "Seq", "Uint32", i, origin=origin, id=rid(2)),
        ]
        event = new_event(dev, "pump", "all", readings, origin=origin, id=eid)
        env = new_envelope(AddEventRequest.of(event, None if eid is None else request_id_for(eid)).to_json())
        body, headers = encode_envelope(env, "nats")
        hdrs = {"Content-Type": env.content_type} if _MINIMAL_HEADERS else dict(headers)
        out.append((topics.device_event("edgewatch-ingest", "pump", dev, "all"), body, hdrs))
    return out


def _floor(events: list[Message], derived: bool) -> str:
    """The share of the raw JSON that is id entropy: 16 bytes per random UUID, 0 for derived ones."""
    raw = sum(len(b) for _, b, _ in events)
    uuids = sum(len(_UUID.findall(b)) for _, b, _ in events)
    if derived:
        return f"entropy floor, derived ids (edgewatch ingest): {uuids} name-based UUIDs, 0 bytes of entropy = 0.0000"
    return f"entropy floor, random ids (Go SDK): {uuids} random UUIDs = {16 * uuids / raw:.4f} of the raw JSON bytes"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process plus its live children (sync's encoder worker)."""
    total = _cpu_seconds(pid)
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            total += sum(_tree_cpu(int(c)) for c in children.read_text().split())
        except OSError:
            pass
    return total


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as r:
        return bytes(r.read())


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited {proc.returncode}")
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def _publish(url: str, events: list[Message], settings: SyncSettings) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_streams(js, settings)
    start = time.perf_counter()
    futures = [await js.publish_async(subj, body, headers=headers) for subj, body, headers in events]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    info = await js.stream_info(f"{settings.sync.stream_prefix}_EVENT")
    await nc.close()
    if info.state.messages != len(events):
        raise RuntimeError(f"backlog has {info.state.messages} messages, expected {len(events)}")
    return len(events) / elapsed


def _count(port: int) -> int:
    import json

    return int(json.loads(_get(f"http://127.0.0.1:{port}/api/v3/event/count"))["count"])


def _wire_bytes(port: int) -> float:
    text = _get(f"http://127.0.0.1:{port}/metrics").decode()
    m = re.search(r'^edgewatch_sync_wire_bytes_total\{class="event"\} ([0-9.eE+]+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="ew-bench-sync-"))
    nats_port, recv_port, sync_port = _port(), _port(), _port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        conf = NatsServerConf(port=nats_port, http_port=_port(), store_dir=tmp / "js").write(tmp / "nats-server.conf")
        nats_cmd = [nats_server_binary(), "-c", str(conf)]
        procs.append(subprocess.Popen(nats_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        env = {**os.environ, "EDGEWATCH_DATA_DIR": str(tmp), "MESSAGEBUS_SERVERS": f"[nats://127.0.0.1:{nats_port}]"}
        settings = SyncSettings.model_validate({"MessageBus": {"Servers": [f"nats://127.0.0.1:{nats_port}"]}})
        derived = os.environ.get("BENCH_SYNC_IDS", "derived") != "random"  # "random": Go-SDK-shaped ids
        events = _events(N, derived_ids=derived)
        raw_bytes = sum(len(b) for _, b, _ in events)
        pub_rate = asyncio.run(_publish(f"nats://127.0.0.1:{nats_port}", events, settings))
        print(f"jetstream publish_async: {N} events in {N / pub_rate:.2f}s = {pub_rate:,.0f} msg/s")

        renv = {**env, "SERVICE_PORT": str(recv_port), "WRITABLE_LOGLEVEL": "WARN"}
        recv_cmd = [sys.executable, *os.environ.get("BENCH_RECV_PROFILE", "").split(), "-m", "edgewatch.receiver"]
        procs.append(subprocess.Popen(recv_cmd, env=renv))
        _wait_http(f"http://127.0.0.1:{recv_port}/api/v3/ping", procs[-1])
        senv = {
            **env,
            "SERVICE_PORT": str(sync_port),
            "SINK_URL": f"http://127.0.0.1:{recv_port}",
            "WRITABLE_LOGLEVEL": "WARN",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, *os.environ.get("BENCH_SYNC_PROFILE", "").split(), "-m", "edgewatch.sync"], env=senv
            )
        )
        first_t, first_n = 0.0, 0
        names = ("nats-server", "receiver", "sync")
        cpu0: dict[str, float] = {}
        loop0 = 0.0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            n = _count(recv_port)
            now = time.perf_counter()
            if n and not first_t:
                first_t, first_n = now, n
                cpu0 = {k: _tree_cpu(p.pid) for k, p in zip(names, procs, strict=True)}
                loop0 = _cpu_seconds(procs[2].pid)
            if n >= N:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("drain did not finish")
        drain_rate = (N - first_n) / (now - first_t)
        cpu = {k: _tree_cpu(p.pid) - cpu0[k] for k, p in zip(names, procs, strict=True)}
        loop = _cpu_seconds(procs[2].pid) - loop0
        cpu["sync event loop"], cpu["sync encoder worker"] = loop, cpu.pop("sync") - loop
        per_event = ", ".join(f"{k} {v / (N - first_n) * 1e6:.1f}" for k, v in cpu.items())
        print(f"cpu during the drain, µs per event: {per_event} (total {sum(cpu.values()):.2f} s)")
        print(f"sync drain into receiver: {N - first_n} events in {now - first_t:.2f}s = {drain_rate:,.0f} msg/s")
        time.sleep(0.5)
        wire = _wire_bytes(sync_port)
        print(f"uplink: {wire:,.0f} compressed bytes for {raw_bytes:,} bytes of raw EdgeX JSON")
        print(_floor(events if derived else _events(min(N, 10_000)), True))
        print(_floor(events if not derived else _events(min(N, 10_000), derived_ids=False), False))
        print(f"RESULT sync_drain_vs_jetstream {drain_rate / pub_rate:.3f} ratio (goal >= 0.8)")
        print(f"RESULT sync_bytes_vs_raw_json {wire / raw_bytes:.4f} ratio (goal <= 0.1)")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
