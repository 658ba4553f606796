"""Full-buffer policy: with small caps and the cloud down, events drop oldest (counted), alerts are rejected to
their JetStream publisher (never dropped), the service keeps running, and everything kept arrives later."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from nats.js.errors import APIError

from edgewatch.common.bus import NatsBus
from edgewatch.receiver.client import ReceiverClient
from edgewatch.sync.app import build_app
from edgewatch.sync.config import SyncSettings
from edgewatch.syncwire.batch import DataClass
from tests.receiver.support import LiveReceiver
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until
from tests.sync.loadgen import message
from tests.sync.support import sync_settings

EVENTS = 300
KiB = 1024


def _small_caps(settings: SyncSettings) -> SyncSettings:
    data = settings.model_dump(by_alias=True)
    data["Buffer"]["Event"] = {"MaxBytes": 64 * KiB, "Discard": "old"}
    data["Buffer"]["Alert"] = {"MaxBytes": 8 * KiB, "Discard": "new"}
    return SyncSettings.model_validate(data)


def _metric(text: str, name: str, cls: str) -> float:
    m = re.search(rf'^{name}\{{class="{cls}"\}} ([0-9.eE+]+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


async def test_full_buffer_drops_oldest_events_counted_and_rejects_alerts_without_losing_any(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    receiver = LiveReceiver(tmp_path)  # not started: the cloud is down
    host = build_app(_small_caps(sync_settings(nats_server, receiver.url, tmp_path, batch_max_msgs=20)))
    async with host:
        for seq in range(1, EVENTS + 1):
            subject, payload, headers = message(DataClass.EVENT, "pump-1", seq)
            await bus.publish(subject, payload, headers)
        accepted, rejected = 0, 0
        for _ in range(200):
            subject, payload, headers = message(DataClass.ALERT, "pump-1", accepted + 1)
            try:
                await bus.js.publish(subject, payload + bytes(200), headers=headers)
                accepted += 1
            except APIError as e:
                assert "maximum" in str(e.description).lower()
                rejected += 1
        assert accepted > 0 and rejected > 0, "the alert budget must fill and then refuse"

        sync_api = httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://sync")
        async with sync_api:

            async def uplink_down() -> bool:  # after Sync.OutageAfter consecutive failed attempts
                return (await sync_api.get("/api/v3/health")).json()["uplinkUp"] is False

            await wait_until(uplink_down, 10, message="uplink reported down")
            during = (await sync_api.get("/api/v3/sync/status")).json()["classes"]
            assert during["alert"]["backlogMessages"] == accepted and during["alert"]["oldestAgeSeconds"] > 0
            assert during["event"]["newestSeq"] == EVENTS > during["event"]["lastExportedSeq"]
            assert not during["event"]["caughtUp"]
            await receiver.start()
            try:
                async with ReceiverClient(receiver.url) as rc:

                    async def drained() -> bool:
                        body = (await sync_api.get("/api/v3/sync/status")).json()
                        return all(c["caughtUp"] for c in body["classes"].values())

                    await wait_until(drained, 20, message="buffer drained")
                    n_alerts, _ = await rc.items(DataClass.ALERT, "pump-1", limit=1)
                    _, alerts = await rc.records(DataClass.ALERT, limit=1000)
                    n_events = await rc.event_count("pump-1")
                    _, events = await rc.records(DataClass.EVENT, limit=1000)
                metrics = (await sync_api.get("/metrics")).text
                status = (await sync_api.get("/api/v3/sync/status")).json()
            finally:
                await receiver.stop()
    dropped = _metric(metrics, "edgewatch_sync_dropped_messages_total", "event")
    assert n_alerts == accepted and [a["seq"] for a in alerts] == list(range(1, accepted + 1))
    assert _metric(metrics, "edgewatch_sync_dropped_messages_total", "alert") == 0
    assert 0 < n_events < EVENTS
    assert dropped == EVENTS - n_events
    assert status["classes"]["event"]["droppedMessages"] == dropped
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and seqs[-1] == EVENTS, "the newest events are kept, in order"


def test_alert_buffer_refuses_a_drop_oldest_policy() -> None:
    with pytest.raises(ValueError, match=r"Buffer\.Alert\.Discard"):
        SyncSettings.model_validate({"Buffer": {"Alert": {"MaxBytes": 1024, "Discard": "old"}}})
