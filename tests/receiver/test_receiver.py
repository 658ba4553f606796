"""The cloud receiver: authenticated, validated, durable and deduplicating intake; EdgeX event queries with paging;
score/feature/alert queries; the live stream and the consumer SDK."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import zstandard

from edgewatch.common.service.host import ServiceHost
from edgewatch.receiver.app import build_app
from edgewatch.receiver.client import ReceiverClient, ReceiverClientError
from edgewatch.receiver.config import ReceiverSettings
from edgewatch.syncwire.batch import (
    BATCH_CONTENT_TYPE,
    IDEMPOTENCY_HEADER,
    BatchHeader,
    DataClass,
    RecordRow,
    encode_rows,
)
from tests.receiver.support import LiveReceiver
from tests.sync.loadgen import message

TOKEN = "s3cret"


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[ServiceHost]:
    settings = ReceiverSettings.model_validate(
        {
            "Service": {"AuthToken": TOKEN, "MaxResultCount": 50},
            "Receiver": {"DbPath": str(tmp_path / "r.db"), "MaxBatchBytes": 200_000},
        }
    )
    h = build_app(settings)
    async with h:
        yield h


def _client(host: ServiceHost, token: str = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://receiver", headers=headers)


def _batch(cls: DataClass, device: str, seqs: range, batch_id: str = "") -> tuple[BatchHeader, list[RecordRow]]:
    """Records of one device; stream sequences are kept apart per device (as they would be in one stream)."""
    base = 1000 * int(device.rsplit("-", 1)[1])
    rows = []
    for seq in seqs:
        subject, payload, _ = message(cls, device, seq)
        rows.append(RecordRow("", device, seq, subject, base + seq, 1_000 + seq, "", payload))
    bid = batch_id or f"gw/{cls.value}/{seqs.start}-{seqs.stop - 1}"
    return BatchHeader(batch_id=bid, gateway="gw", data_class=cls, stream=f"EW_SYNC_{cls.value.upper()}"), rows


async def _post(client: httpx.AsyncClient, header: BatchHeader, rows: list[RecordRow]) -> httpx.Response:
    body = encode_rows(header, rows)
    headers = {"Content-Type": BATCH_CONTENT_TYPE, "Content-Encoding": "zstd", IDEMPOTENCY_HEADER: header.batch_id}
    return await client.post("/api/v3/sync/batch", content=body, headers=headers)


async def test_receiver_batch_requires_the_bearer_token(host: ServiceHost) -> None:
    async with _client(host, token="") as c:
        resp = await _post(c, *_batch(DataClass.EVENT, "pump-1", range(1, 3)))
    assert resp.status_code == 401


async def test_receiver_deduplicates_replayed_batches_and_records(host: ServiceHost) -> None:
    async with _client(host) as c:
        first = await _post(c, *_batch(DataClass.EVENT, "pump-1", range(1, 11)))
        again = await _post(c, *_batch(DataClass.EVENT, "pump-1", range(1, 11)))
        overlap = await _post(c, *_batch(DataClass.EVENT, "pump-1", range(6, 16)))
        count = (await c.get("/api/v3/event/count")).json()
    assert first.json() | {} == {
        "apiVersion": "v3",
        "statusCode": 200,
        "batchId": "gw/event/1-10",
        "accepted": 10,
        "duplicates": 0,
    }
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 10)
    assert (overlap.json()["accepted"], overlap.json()["duplicates"]) == (5, 5)
    assert count["count"] == 15


@pytest.mark.parametrize(
    ("body", "headers", "status", "needle"),
    [
        (b"not zstd", {"Content-Encoding": "zstd"}, 400, "body"),
        (zstandard.compress(b"\xc1\xc1"), {"Content-Encoding": "zstd"}, 400, "body"),
        (zstandard.compress(b"\x93\x01\x02\x03"), {"Content-Encoding": "zstd"}, 400, "body"),
        (b"x", {"Content-Encoding": "gzip"}, 400, "Content-Encoding"),
        (b"x" * 200_001, {"Content-Encoding": "zstd"}, 413, "body"),
    ],
)
async def test_receiver_rejects_malformed_batches_naming_the_field(
    host: ServiceHost, body: bytes, headers: dict[str, str], status: int, needle: str
) -> None:
    async with _client(host) as c:
        resp = await c.post("/api/v3/sync/batch", content=body, headers=headers)
    assert resp.status_code == status
    assert needle in resp.json()["message"] and resp.json()["statusCode"] == status


async def test_receiver_rejects_an_idempotency_key_that_does_not_match(host: ServiceHost) -> None:
    header, rows = _batch(DataClass.SCORE, "pump-1", range(1, 3))
    async with _client(host) as c:
        resp = await c.post(
            "/api/v3/sync/batch",
            content=encode_rows(header, rows),
            headers={"Content-Encoding": "zstd", IDEMPOTENCY_HEADER: "other"},
        )
    assert resp.status_code == 400 and "Idempotency-Key" in resp.json()["message"]


async def test_receiver_serves_edgex_event_queries_newest_first_with_paging(host: ServiceHost) -> None:
    async with _client(host) as c:
        await _post(c, *_batch(DataClass.EVENT, "pump-1", range(1, 31)))
        await _post(c, *_batch(DataClass.EVENT, "pump-2", range(1, 6)))
        page = (await c.get("/api/v3/event/device/name/pump-1", params={"offset": 5, "limit": 10})).json()
        all_ = (await c.get("/api/v3/event/all", params={"limit": -1})).json()
        per_device = (await c.get("/api/v3/event/count/device/name/pump-2")).json()
        at_end = await c.get("/api/v3/event/all", params={"offset": 35})
        past_end = await c.get("/api/v3/event/all", params={"offset": 36})
        too_many = await c.get("/api/v3/event/all", params={"limit": 51})
        bad_offset = await c.get("/api/v3/event/all", params={"offset": "x"})
    assert page["totalCount"] == 30 and len(page["events"]) == 10
    origins = [e["origin"] for e in page["events"]]
    assert origins == sorted(origins, reverse=True)
    assert {e["deviceName"] for e in page["events"]} == {"pump-1"}
    assert page["events"][0]["readings"][0]["valueType"] == "Float32"
    assert all_["totalCount"] == 35 and len(all_["events"]) == 35
    assert per_device["count"] == 5
    assert at_end.status_code == 200 and at_end.json()["events"] == []
    assert past_end.status_code == 416
    assert too_many.status_code == 400 and "limit" in too_many.json()["message"]
    assert bad_offset.status_code == 400 and "offset" in bad_offset.json()["message"]


async def test_receiver_decodes_scores_features_and_alerts_with_the_suite_codec(host: ServiceHost) -> None:
    async with _client(host) as c:
        for cls in (DataClass.SCORE, DataClass.FEATURE, DataClass.ALERT):
            await _post(c, *_batch(cls, "pump-3", range(1, 4)))
        scores = (await c.get("/api/v3/score/device/name/pump-3")).json()
        alerts = (await c.get("/api/v3/alert/all")).json()
        features = (await c.get("/api/v3/feature/count")).json()
    assert scores["totalCount"] == 3 and scores["scores"][0]["data"] == {"device": "pump-3", "seq": 3, "value": 1.5}
    assert alerts["alerts"][0]["class"] == "alert" and alerts["alerts"][0]["seq"] == 3
    assert features["count"] == 3


async def test_receiver_keeps_data_and_dedup_state_across_a_restart(tmp_path: Path) -> None:
    receiver = LiveReceiver(tmp_path)
    await receiver.start()
    async with receiver.client() as c:
        assert (await _post(c, *_batch(DataClass.ALERT, "pump-1", range(1, 6)))).json()["accepted"] == 5
    await receiver.stop()
    await receiver.start()
    try:
        async with receiver.client() as c:
            again = (await _post(c, *_batch(DataClass.ALERT, "pump-1", range(3, 8), batch_id="x"))).json()
            count = (await c.get("/api/v3/alert/count")).json()["count"]
    finally:
        await receiver.stop()
    assert (again["accepted"], again["duplicates"]) == (2, 3)
    assert count == 7


async def test_client_follow_replays_then_streams_new_records_in_commit_order(receiver: LiveReceiver) -> None:
    async with receiver.client() as c:
        await _post(c, *_batch(DataClass.ALERT, "pump-1", range(1, 4)))
    got: list[int] = []
    async with ReceiverClient(receiver.url) as rc:

        async def follow() -> None:
            async for rec in rc.follow(DataClass.ALERT, device="pump-1"):
                got.append(rec["seq"])
                if len(got) == 6:
                    return

        task = asyncio.create_task(follow())
        async with receiver.client() as c:
            await _post(c, *_batch(DataClass.ALERT, "pump-1", range(4, 7)))
        await asyncio.wait_for(task, 10)
        with pytest.raises(ReceiverClientError) as err:
            await rc.events(limit=10_000)
    assert got == [1, 2, 3, 4, 5, 6]
    assert err.value.status == 400
