"""Counting oracle (as Azure IoT Edge's TestResultCoordinator): every message carries device + sequence; under
load, with cloud outages (receiver frozen twice, killed and restarted), kill -9 of sync (twice) and kill -9 plus
restart of nats-server, the receiver must hold exactly the expected messages, without duplicates, in order per
device. ``EDGEWATCH_SYNC_ORACLE_SCALE=5`` runs the full-size variant (about 25k messages).

Real processes: ``python -m edgewatch.sync`` and ``python -m edgewatch.receiver`` (HTTP sink with a bearer
token), a real nats-server killed and restarted on the same store. The load generator publishes with JetStream
publish and retries a publish that got no ack with the same ``Nats-Msg-Id`` (so "expected" is every acknowledged
message).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
from collections import defaultdict
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from edgewatch.syncwire.batch import DataClass
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until
from tests.sync.loadgen import message
from tests.sync.procs import ServiceProc, oracle_sync

DEVICES = ("pump-1", "pump-2", "pump-3")
RATE_PER_STREAM = 40  # messages/s per (class, device): 12 streams -> ~480 msg/s
SCALE = float(os.environ.get("EDGEWATCH_SYNC_ORACLE_SCALE", "1"))  # the full-size run: 5 (about 25k messages)
TOKEN = "oracle-secret"


class LoadGen:
    """Publishes numbered messages per (class, device) until stopped; counts what JetStream acknowledged."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked: dict[tuple[str, str], int] = defaultdict(int)
        self.retries = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        nc = await nats.connect(self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
        js = nc.jetstream(timeout=1.0)
        try:
            await asyncio.gather(*(self._stream(js, c, d) for c in DataClass for d in DEVICES))
        finally:
            await nc.close()

    async def _stream(self, js: JetStreamContext, cls: DataClass, device: str) -> None:
        seq = 0
        while not self._stop.is_set():
            seq += 1
            subject, payload, headers = message(cls, device, seq)
            while True:
                try:
                    await js.publish(subject, payload, headers=headers)
                    break
                except Exception:
                    self.retries += 1
                    await asyncio.sleep(0.1)
            self.acked[(cls.value, device)] = seq
            await asyncio.sleep(1 / RATE_PER_STREAM)

    def stop(self) -> None:
        self._stop.set()


def _received(db: Path) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT cls, device, seq FROM records ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.mark.timeout(int(150 * SCALE))
async def test_oracle_expected_equals_received_through_outages_kills_and_server_restart(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    server = nats_server
    recv_port, sync_port = free_port(), free_port()
    db = tmp_path / "receiver.db"
    receiver = ServiceProc(
        "edgewatch.receiver",
        {
            "SERVICE_PORT": str(recv_port),
            "SERVICE_AUTHTOKEN": TOKEN,
            "RECEIVER_DBPATH": str(db),
            "EDGEWATCH_DATA_DIR": str(tmp_path / "recv-data"),
            "WRITABLE_LOGLEVEL": "WARN",
        },
        recv_port,
        tmp_path,
    )
    sync = oracle_sync(server.url, tmp_path, sync_port, url=f"http://127.0.0.1:{recv_port}", token=TOKEN)
    gen = LoadGen(server.url)
    load = None
    try:
        receiver.start()
        sync.start()
        load = asyncio.create_task(gen.run())
        total = lambda: sum(gen.acked.values())  # noqa: E731

        async def progressed(n: int) -> None:
            n = int(n * SCALE)
            target = total() + n
            await wait_until(lambda: total() >= target, 30 * SCALE, message=f"{n} more messages published")

        await progressed(500)
        receiver.freeze()  # cloud outage 1: the receiver hangs (requests time out)
        await progressed(800)
        receiver.thaw()
        await progressed(300)
        await asyncio.to_thread(sync.kill9)  # sync dies mid-upload
        await progressed(400)
        await asyncio.to_thread(sync.start)
        await progressed(300)
        await asyncio.to_thread(receiver.kill9)  # cloud outage 2: the receiver is killed and restarted
        await progressed(500)
        await asyncio.to_thread(receiver.start)
        await progressed(300)
        await asyncio.to_thread(server.kill)  # the local JetStream server is killed -9 and restarted (same store)
        await asyncio.to_thread(server.start)
        await progressed(400)
        receiver.freeze()  # cloud outage 3
        await progressed(400)
        receiver.thaw()
        await asyncio.to_thread(sync.kill9)
        await asyncio.to_thread(sync.start)
        await progressed(300)
        gen.stop()
        await load
        expected = {k: v for k, v in gen.acked.items()}
        n_expected = sum(expected.values())

        def all_there() -> bool:
            return len(_received(db)) >= n_expected

        await wait_until(all_there, 60 * SCALE, interval=0.5, message=f"{n_expected} records at the receiver")
        rows = _received(db)
        per: dict[tuple[str, str], list[int]] = defaultdict(list)
        for cls, device, seq in rows:
            per[(cls, device)].append(seq)
        duplicates = len(rows) - len(set(rows))
        misordered = sum(1 for seqs in per.values() for a, b in itertools.pairwise(seqs) if b <= a)
        report = {
            "expected": n_expected,
            "received": len(rows),
            "duplicates": duplicates,
            "misordered": misordered,
            "publishRetries": gen.retries,
        }
        print("ORACLE", json.dumps(report))
        assert duplicates == 0
        assert misordered == 0
        for key, last in expected.items():
            assert per[key] == list(range(1, last + 1)), key
        assert len(rows) == n_expected
    finally:
        if load is not None and not load.done():
            gen.stop()
            load.cancel()
        sync.stop()
        receiver.stop()
