"""Upload priority: after an outage, alerts overtake an events backlog (by at most the batches on the wire)."""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.bus import NatsBus
from edgewatch.receiver.client import ReceiverClient
from edgewatch.sync.app import build_app
from edgewatch.syncwire.batch import DataClass
from tests.receiver.support import LiveReceiver
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until
from tests.sync.loadgen import message
from tests.sync.support import sync_settings

BATCH = 25


async def test_alerts_overtake_an_events_backlog_after_an_outage(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    receiver = LiveReceiver(tmp_path)
    host = build_app(sync_settings(nats_server, receiver.url, tmp_path, batch_max_msgs=BATCH, retry_max=2.0))
    async with host:
        for seq in range(1, 401):
            await bus.publish(*_args(DataClass.EVENT, seq))
        for seq in range(1, 4):
            await bus.publish(*_args(DataClass.ALERT, seq))
        await bus.nc.flush()
        await receiver.start()
        try:
            async with ReceiverClient(receiver.url) as rc:
                await wait_until(lambda: _count(rc), 30, message="everything delivered")
                _, events = await rc.records(DataClass.EVENT, limit=1000)
                _, alerts = await rc.records(DataClass.ALERT, limit=10)
        finally:
            await receiver.stop()
    first_alert = min(a["id"] for a in alerts)
    events_before = sum(1 for e in events if e["id"] < first_alert)
    assert len(events) == 400 and len(alerts) == 3
    assert events_before <= 2 * BATCH, f"{events_before} events went before the first alert"


def _args(cls: DataClass, seq: int) -> tuple[str, bytes, dict[str, str]]:
    return message(cls, "pump-1", seq)


async def _count(rc: ReceiverClient) -> bool:
    return await rc.event_count() == 400 and (await rc.items(DataClass.ALERT))[0] == 3
