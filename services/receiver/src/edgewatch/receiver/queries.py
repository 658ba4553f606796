"""Query routes: EdgeX core-data event queries (JSON as core-data answers) and score/feature/alert queries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.service.http import API_PREFIX
from edgewatch.common.service.paging import check_offset, parse_page
from edgewatch.receiver.decode import record_data, record_json
from edgewatch.receiver.store import RecordQuery, RecordStore
from edgewatch.syncwire.batch import DataClass

__all__ = ["class_router", "edgex_event_router"]

_PLURAL = {DataClass.SCORE: "scores", DataClass.FEATURE: "features", DataClass.ALERT: "alerts"}


def _count(n: int) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "statusCode": 200, "count": n}


def edgex_event_router(store: RecordStore, max_result: int) -> APIRouter:
    """``/api/v3/event/all``, ``/event/count``, ``/event/count/device/name/{name}``, ``/event/device/name/{name}``."""
    router = APIRouter(prefix=f"{API_PREFIX}/event")

    async def page(q: RecordQuery, offset: int, limit: int) -> dict[str, Any]:
        p = parse_page(offset, limit, max_result)
        total = await store.count(q)
        check_offset(p.offset, total)
        rows = await store.query(q, p.offset, p.limit) if p.limit else []
        events = [record_data(r) for r in rows]
        return {"apiVersion": API_VERSION, "statusCode": 200, "totalCount": total, "events": events}

    @router.get("/all")
    async def all_events(offset: int = 0, limit: int = 20) -> dict[str, Any]:
        return await page(RecordQuery(DataClass.EVENT), offset, limit)

    @router.get("/count")
    async def count() -> dict[str, Any]:
        return _count(await store.count(RecordQuery(DataClass.EVENT)))

    @router.get("/count/device/name/{name}")
    async def count_device(name: str = Path(..., min_length=1)) -> dict[str, Any]:
        return _count(await store.count(RecordQuery(DataClass.EVENT, name)))

    @router.get("/device/name/{name}")
    async def by_device(name: str = Path(..., min_length=1), offset: int = 0, limit: int = 20) -> dict[str, Any]:
        return await page(RecordQuery(DataClass.EVENT, name), offset, limit)

    @router.get("/start/{start}/end/{end}")
    async def by_time(start: int, end: int, offset: int = 0, limit: int = 20) -> dict[str, Any]:
        return await page(RecordQuery(DataClass.EVENT, start_ns=start, end_ns=end), offset, limit)

    return router


def class_router(store: RecordStore, cls: DataClass, max_result: int) -> APIRouter:
    """``/api/v3/<score|feature|alert>/{all,count,device/name/{name}}``, newest first, EdgeX-style paging."""
    router = APIRouter(prefix=f"{API_PREFIX}/{cls.value}")
    key = _PLURAL[cls]

    async def page(q: RecordQuery, offset: int, limit: int) -> dict[str, Any]:
        p = parse_page(offset, limit, max_result)
        total = await store.count(q)
        check_offset(p.offset, total)
        rows = await store.query(q, p.offset, p.limit) if p.limit else []
        return {"apiVersion": API_VERSION, "statusCode": 200, "totalCount": total, key: [record_json(r) for r in rows]}

    @router.get("/all")
    async def all_items(offset: int = 0, limit: int = 20) -> dict[str, Any]:
        return await page(RecordQuery(cls), offset, limit)

    @router.get("/count")
    async def count() -> dict[str, Any]:
        return _count(await store.count(RecordQuery(cls)))

    @router.get("/device/name/{name}")
    async def by_device(name: str = Path(..., min_length=1), offset: int = 0, limit: int = 20) -> dict[str, Any]:
        return await page(RecordQuery(cls, name), offset, limit)

    return router
