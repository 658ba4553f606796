"""Sync end to end in one process: bus -> class streams -> uplink -> receiver (real nats-server, real HTTP)."""

from __future__ import annotations

from pathlib import Path

import httpx

from edgewatch.common.bus import NatsBus
from edgewatch.receiver.client import ReceiverClient
from edgewatch.sync.app import build_app
from edgewatch.syncwire.batch import DataClass
from tests.receiver.support import LiveReceiver
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until
from tests.sync.loadgen import message
from tests.sync.support import sync_settings


async def _publish(bus: NatsBus, cls: DataClass, device: str, seqs: range) -> None:
    for seq in seqs:
        subject, payload, headers = message(cls, device, seq)
        await bus.publish(subject, payload, headers)
    await bus.nc.flush()


async def test_sync_delivers_every_class_in_order_per_device(
    nats_server: NatsServer, bus: NatsBus, receiver: LiveReceiver, tmp_path: Path
) -> None:
    host = build_app(sync_settings(nats_server, receiver.url, tmp_path, batch_max_msgs=50))
    async with host:
        for cls in DataClass:
            for device in ("pump-1", "pump-2"):
                await _publish(bus, cls, device, range(1, 121))
        async with ReceiverClient(receiver.url) as rc:
            await wait_until(lambda: rc.event_count(), 20, message="240 events")
            for cls in DataClass:
                for device in ("pump-1", "pump-2"):
                    _, recs = await _wait_records(rc, cls, device, 120)
                    assert [r["seq"] for r in recs] == list(range(1, 121)), (cls, device)
            assert await rc.event_count("pump-1") == 120
            total, events = await rc.events("pump-2", limit=5)
            assert total == 120
            assert events[0]["deviceName"] == "pump-2" and events[0]["readings"][0]["resourceName"] == "Flow"
            origins = [e["origin"] for e in events]
            assert origins == sorted(origins, reverse=True)
            n, alerts = await rc.items(DataClass.ALERT, "pump-1", limit=3)
            assert n == 120 and alerts[0]["data"]["device"] == "pump-1"
        client = httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://sync")
        async with client:

            async def caught_up() -> bool:
                body = (await client.get("/api/v3/sync/status")).json()
                return all(c["caughtUp"] and c["lastExportedSeq"] == 240 for c in body["classes"].values())

            await wait_until(caught_up, 10, message="every class caught up")


async def _wait_records(rc: ReceiverClient, cls: DataClass, device: str, n: int) -> tuple[int, list[dict]]:
    async def got() -> tuple[int, list[dict]] | None:
        cursor, recs = await rc.records(cls, device=device, limit=1000)
        return (cursor, recs) if len(recs) >= n else None

    result = await wait_until(got, 20, message=f"{n} {cls} records of {device}")
    return result


async def test_a_wiped_local_store_does_not_make_new_data_look_like_duplicates(
    nats_server: NatsServer, bus: NatsBus, receiver: LiveReceiver, tmp_path: Path
) -> None:
    settings = sync_settings(nats_server, receiver.url, tmp_path)
    async with ReceiverClient(receiver.url) as rc:
        for round_ in (1, 2):
            async with build_app(settings):
                await _publish(bus, DataClass.ALERT, "pump-9", range(1, 6))
                want = 5 * round_
                await wait_until(lambda n=want: _alerts(rc, n), 20, message=f"{want} alerts")
            await bus.js.delete_stream("EW_SYNC_ALERT")  # the edge store is wiped: sequences restart at 1
        _, recs = await rc.records(DataClass.ALERT, limit=100)
    assert len(recs) == 10 and len({r["stream"] for r in recs}) == 2


async def _alerts(rc: ReceiverClient, n: int) -> bool:
    return (await rc.items(DataClass.ALERT))[0] == n


async def test_sync_recreates_a_stream_deleted_under_it_and_keeps_uploading(
    nats_server: NatsServer, bus: NatsBus, receiver: LiveReceiver, tmp_path: Path
) -> None:
    async with build_app(sync_settings(nats_server, receiver.url, tmp_path)), ReceiverClient(receiver.url) as rc:
        await _publish(bus, DataClass.SCORE, "pump-4", range(1, 4))
        await wait_until(lambda: _scores(rc, 3), 20, message="3 scores")
        await bus.js.delete_stream("EW_SYNC_SCORE")

        async def stream_back() -> bool:
            try:
                await bus.js.consumer_info("EW_SYNC_SCORE", "EW_SYNC_SCORE_UPLOADER")
            except Exception:
                return False
            return True

        await wait_until(stream_back, 20, message="stream and uploader recreated")
        await _publish(bus, DataClass.SCORE, "pump-4", range(4, 7))
        await wait_until(lambda: _scores(rc, 6), 20, message="6 scores")


async def _scores(rc: ReceiverClient, n: int) -> bool:
    return (await rc.items(DataClass.SCORE))[0] == n
