"""Receiver routes: batch intake, consumer reads in commit order, the live stream, per-gateway progress."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.service.http import API_PREFIX
from edgewatch.common.service.paging import parse_page
from edgewatch.receiver.decode import record_json
from edgewatch.receiver.live import LiveHub
from edgewatch.receiver.messaging import Intake
from edgewatch.receiver.store import RecordQuery, RecordStore
from edgewatch.syncwire.batch import IDEMPOTENCY_HEADER, DataClass

__all__ = ["sync_router"]


def sync_router(intake: Intake, store: RecordStore, hub: LiveHub, max_result: int, keepalive: float) -> APIRouter:
    """``/api/v3/sync/{batch,records,stream,progress}``."""
    router = APIRouter(prefix=f"{API_PREFIX}/sync")

    @router.post("/batch")
    async def batch(request: Request) -> dict[str, Any]:
        body = await request.body()
        enc = request.headers.get("content-encoding", "")
        ack = await intake.accept(body, enc, request.headers.get(IDEMPOTENCY_HEADER, ""))
        return ack.model_dump(by_alias=True)

    @router.get("/records")
    async def records(
        cls: DataClass = Query(..., alias="class"),
        device: str = "",
        after: int = Query(0, ge=0),
        limit: int = 100,
    ) -> dict[str, Any]:
        n = parse_page(None, limit, max_result).limit
        rows = await store.query(RecordQuery(cls, device, after_id=after, newest_first=False), 0, n)
        items = [record_json(r) for r in rows]
        return {"apiVersion": API_VERSION, "statusCode": 200, "records": items, "last": rows[-1].id if rows else after}

    @router.get("/stream")
    async def stream(
        cls: DataClass = Query(..., alias="class"),
        device: str = "",
        after: int = Query(0, ge=0),
    ) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            last, seen = after, -1
            while True:
                rows = await store.query(RecordQuery(cls, device, after_id=last, newest_first=False), 0, 500)
                for r in rows:
                    last = r.id
                    yield f"id: {r.id}\nevent: record\ndata: {json.dumps(record_json(r))}\n\n".encode()
                if len(rows) == 500:
                    continue
                gen = await hub.wait_newer(seen, keepalive)
                if gen == seen:
                    yield b": keepalive\n\n"
                seen = gen

        return StreamingResponse(events(), media_type="text/event-stream")

    @router.get("/progress")
    async def progress() -> dict[str, Any]:
        rows = await store.progress()
        items = [
            {
                "gateway": p.gateway,
                "class": p.cls.value,
                "records": p.records,
                "lastStreamSeq": p.last_stream_seq,
                "lastReceivedNs": p.last_received_ns,
            }
            for p in rows
        ]
        return {"apiVersion": API_VERSION, "statusCode": 200, "progress": items}

    return router
