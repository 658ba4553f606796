"""Event records an older sync stored as whole EdgeX envelopes (json format v3/v4, CBOR) read back as Events,
ordered by the event's origin (not the edge store time), like any other event record."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import cbor2
import httpx
import pytest

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import encode_add_event
from edgewatch.common.service.host import ServiceHost
from edgewatch.receiver.app import build_app
from edgewatch.receiver.config import ReceiverSettings
from edgewatch.syncwire.batch import (
    BATCH_CONTENT_TYPE,
    IDEMPOTENCY_HEADER,
    BatchHeader,
    DataClass,
    RecordRow,
    encode_rows,
)


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[ServiceHost]:
    h = build_app(ReceiverSettings.model_validate({"Receiver": {"DbPath": str(tmp_path / "r.db")}}))
    async with h:
        yield h


def _envelope(i: int, doc: bytes) -> bytes:
    payload = json.loads(doc)
    if i == 0:
        return json.dumps(
            {"apiVersion": "v3", "payload": base64.b64encode(doc).decode(), "contentType": "application/json"}
        ).encode()
    if i == 1:
        return json.dumps({"apiVersion": "v3", "payload": payload, "contentType": "application/json"}).encode()
    return cbor2.dumps({"apiVersion": "v3", "payload": payload, "contentType": "application/json"})


async def test_envelope_records_read_back_as_events_in_origin_order(host: ServiceHost) -> None:
    events = [
        new_event("pump-7", "p", "s", [Reading.simple("pump-7", "p", "s", "Int32", i)], origin=1_000 + i)
        for i in range(3)
    ]
    rows = [
        # store times run backwards, so only the events' origins give EdgeX's newest-first order
        RecordRow(
            "",
            "pump-7",
            i + 1,
            "edgex.events.device.x.p.pump-7.s",
            i + 1,
            9_000 - i,
            "",
            _envelope(i, encode_add_event(AddEventRequest.of(ev))),
        )
        for i, ev in enumerate(events)
    ]
    header = BatchHeader(batch_id="gw/old", gateway="gw", data_class=DataClass.EVENT, stream="EW_SYNC_EVENT")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://receiver") as c:
        r = await c.post(
            "/api/v3/sync/batch",
            content=encode_rows(header, rows, pack=False),
            headers={"Content-Type": BATCH_CONTENT_TYPE, "Content-Encoding": "zstd", IDEMPOTENCY_HEADER: "gw/old"},
        )
        assert r.status_code == 200, r.text
        doc = (await c.get("/api/v3/event/device/name/pump-7")).json()
        start_end = (await c.get("/api/v3/event/start/1001/end/1002")).json()
    assert [e["id"] for e in doc["events"]] == [ev.id for ev in reversed(events)]
    assert [e["readings"][0]["value"] for e in doc["events"]] == ["2", "1", "0"]
    assert start_end["totalCount"] == 2
