"""core-data routes: POST events (JSON or CBOR), GET / count / DELETE events and readings."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import BaseResponse, BaseWithIdResponse, CountResponse
from edgewatch.common.contracts.errors import ContractInvalidError, NotFoundError
from edgewatch.common.contracts.event import EventResponse, MultiEventsResponse, MultiReadingsResponse
from edgewatch.common.service.paging import parse_page
from edgewatch.core.api.common import json_response, parse_bool
from edgewatch.core.data.aggregate import aggregate, parse_func
from edgewatch.core.data.index import IndexEntry
from edgewatch.core.data.service import DataService

__all__ = ["data_router"]

EV = "/api/v3/event"
RD = "/api/v3/reading"


EVENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "AddEventRequest {apiVersion, requestId, event}",
        "content": {
            "application/json": {"schema": {"type": "object", "required": ["apiVersion", "event"]}},
            "application/cbor": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _ns(raw: str, name: str) -> int:
    try:
        v = int(raw)
    except ValueError:
        raise ContractInvalidError(f"{name} {raw!r} is not an integer (Unix ns)", field=name) from None
    if v < 0:
        raise ContractInvalidError(f"{name} {v} must be >= 0", field=name)
    return v


def _range(start: str, end: str) -> tuple[int, int]:
    s, e = _ns(start, "start"), _ns(end, "end")
    if s > e:
        raise ContractInvalidError(f"start {s} is after end {e}", field="start")
    return s, e


def _uuid(raw: str) -> str:
    try:
        uuid.UUID(raw)
    except ValueError:
        raise ContractInvalidError(f"id {raw!r} is not a UUID", field="id") from None
    return raw


@dataclass
class ReadingQuery:
    """Query parameters every reading list route takes (EdgeX's names; validated where used)."""

    offset: str | None = None
    limit: str | None = None
    numeric: str | None = None
    aggregateFunc: str | None = None


def data_router(data: DataService, max_count: Callable[[], int]) -> APIRouter:
    """All core-data routes."""
    r = APIRouter(tags=["event"])

    async def events(
        keep: Callable[[IndexEntry], bool] | None, offset: str | None, limit: str | None, numeric: str | None
    ) -> JSONResponse:
        page = parse_page(offset, limit, max_count())
        evs, total = await data.events(page, keep, parse_bool(numeric, "numeric"))
        return json_response(MultiEventsResponse(total_count=total, events=evs))

    async def readings(
        keep: Callable[[IndexEntry, int], bool],
        q: ReadingQuery,
    ) -> JSONResponse:
        func = parse_func(q.aggregateFunc)
        page = parse_page(q.offset, q.limit, max_count())
        if func is not None:
            return JSONResponse(aggregate(func, await data.all_readings(keep)))
        rds, total = await data.readings(page, keep, parse_bool(q.numeric, "numeric"))
        return json_response(MultiReadingsResponse(total_count=total, readings=rds))

    @r.post(
        f"{EV}/{{serviceName}}/{{profileName}}/{{deviceName}}/{{sourceName}}",
        status_code=201,
        response_model=BaseWithIdResponse,
        openapi_extra=EVENT_BODY,
    )
    async def add_event(
        serviceName: str,
        profileName: str,
        deviceName: str,
        sourceName: str,
        request: Request,
    ) -> JSONResponse:
        body = await request.body()
        ct = request.headers.get("content-type", "application/json")
        id_ = await data.add(serviceName, profileName, deviceName, sourceName, body, ct)
        return json_response(BaseWithIdResponse(id=id_), 201)

    @r.get(f"{EV}/all", response_model=MultiEventsResponse)
    async def all_events(
        offset: str | None = None, limit: str | None = None, numeric: str | None = None
    ) -> JSONResponse:
        return await events(None, offset, limit, numeric)

    @r.get(f"{EV}/id/{{id}}", response_model=EventResponse)
    async def get_event(id: str, numeric: str | None = None) -> JSONResponse:
        entry = data.store.index.by_id.get(_uuid(id))
        loaded = await data.store.load([entry]) if entry else []
        if not loaded:
            raise NotFoundError(f"event {id!r} does not exist", field="id")
        ev = loaded[0][1]
        return json_response(EventResponse(event=ev.to_numeric() if parse_bool(numeric, "numeric") else ev))

    @r.delete(f"{EV}/id/{{id}}", response_model=BaseResponse)
    async def delete_event(id: str) -> JSONResponse:
        entry = data.store.index.by_id.get(_uuid(id))
        if entry is None:
            raise NotFoundError(f"event {id!r} does not exist", field="id")
        await data.store.delete_ids([entry.seq])
        return json_response(BaseResponse())

    @r.get(f"{EV}/count", response_model=CountResponse)
    async def count_events() -> JSONResponse:
        return json_response(CountResponse(count=data.count()))

    @r.get(f"{EV}/count/device/name/{{name}}", response_model=CountResponse)
    async def count_device_events(name: str) -> JSONResponse:
        return json_response(CountResponse(count=data.count(lambda e: e.device == name)))

    @r.get(f"{EV}/device/name/{{name}}", response_model=MultiEventsResponse)
    async def device_events(
        name: str, offset: str | None = None, limit: str | None = None, numeric: str | None = None
    ) -> JSONResponse:
        return await events(lambda e: e.device == name, offset, limit, numeric)

    @r.delete(f"{EV}/device/name/{{name}}", status_code=202, response_model=BaseResponse)
    async def delete_device_events(name: str) -> JSONResponse:
        await data.store.delete_device(name)
        return json_response(BaseResponse(), 202)

    @r.get(f"{EV}/start/{{start}}/end/{{end}}", response_model=MultiEventsResponse)
    async def events_between(
        start: str, end: str, offset: str | None = None, limit: str | None = None, numeric: str | None = None
    ) -> JSONResponse:
        s, e = _range(start, end)
        return await events(lambda x: s <= x.origin <= e, offset, limit, numeric)

    @r.delete(f"{EV}/age/{{age}}", status_code=202, response_model=BaseResponse)
    async def delete_by_age(age: str) -> JSONResponse:
        await data.store.delete_older_than(_ns(age, "age"))
        return json_response(BaseResponse(), 202)

    def rd(
        dev: str | None = None, res: str | None = None, s: int = 0, e: int = 2**63
    ) -> Callable[[IndexEntry, int], bool]:
        def keep(x: IndexEntry, i: int) -> bool:
            return (
                (dev is None or x.device == dev)
                and (res is None or x.resources[i] == res)
                and s <= x.reading_origin(i) <= e
            )

        return keep

    @r.get(f"{RD}/all", response_model=MultiReadingsResponse, tags=["reading"])
    async def all_readings(
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        return await readings(rd(), q)

    @r.get(f"{RD}/count", response_model=CountResponse, tags=["reading"])
    async def count_readings() -> JSONResponse:
        return json_response(CountResponse(count=data.reading_count(rd())))

    @r.get(f"{RD}/count/device/name/{{name}}", response_model=CountResponse, tags=["reading"])
    async def count_device_readings(name: str) -> JSONResponse:
        return json_response(CountResponse(count=data.reading_count(rd(dev=name))))

    @r.get(f"{RD}/device/name/{{name}}", response_model=MultiReadingsResponse, tags=["reading"])
    async def device_readings(
        name: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        return await readings(rd(dev=name), q)

    @r.get(f"{RD}/resourceName/{{resourceName}}", response_model=MultiReadingsResponse, tags=["reading"])
    async def resource_readings(
        resourceName: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        return await readings(rd(res=resourceName), q)

    @r.get(
        f"{RD}/device/name/{{deviceName}}/resourceName/{{resourceName}}",
        response_model=MultiReadingsResponse,
        tags=["reading"],
    )
    async def device_resource_readings(
        deviceName: str,
        resourceName: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        return await readings(rd(dev=deviceName, res=resourceName), q)

    @r.get(f"{RD}/start/{{start}}/end/{{end}}", response_model=MultiReadingsResponse, tags=["reading"])
    async def readings_between(
        start: str,
        end: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        s, e = _range(start, end)
        return await readings(rd(s=s, e=e), q)

    @r.get(
        f"{RD}/resourceName/{{resourceName}}/start/{{start}}/end/{{end}}",
        response_model=MultiReadingsResponse,
        tags=["reading"],
    )
    async def resource_readings_between(
        resourceName: str,
        start: str,
        end: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        s, e = _range(start, end)
        return await readings(rd(res=resourceName, s=s, e=e), q)

    @r.get(
        f"{RD}/device/name/{{deviceName}}/resourceName/{{resourceName}}/start/{{start}}/end/{{end}}",
        response_model=MultiReadingsResponse,
        tags=["reading"],
    )
    async def device_resource_readings_between(
        deviceName: str,
        resourceName: str,
        start: str,
        end: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        s, e = _range(start, end)
        return await readings(rd(dev=deviceName, res=resourceName, s=s, e=e), q)

    @r.get(
        f"{RD}/device/name/{{deviceName}}/start/{{start}}/end/{{end}}",
        response_model=MultiReadingsResponse,
        tags=["reading"],
    )
    async def device_readings_between(
        deviceName: str,
        start: str,
        end: str,
        q: ReadingQuery = Depends(),
    ) -> JSONResponse:
        s, e = _range(start, end)
        return await readings(rd(dev=deviceName, s=s, e=e), q)

    return r
