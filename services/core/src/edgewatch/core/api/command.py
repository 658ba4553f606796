"""core-command routes: list device commands; GET/PUT a command (forwarded over the bus)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.command import DeviceCoreCommandResponse, MultiDeviceCoreCommandsResponse
from edgewatch.common.contracts.event import EventResponse
from edgewatch.common.service.paging import page_of, parse_page
from edgewatch.core.api.common import json_response
from edgewatch.core.command.commands import CommandService
from edgewatch.core.metadata.devices import DeviceRegistry

__all__ = ["command_router"]

PREFIX = "/api/v3/device"
SET_BODY = {
    "requestBody": {
        "required": True,
        "description": "flat map of resource name -> value (string or JSON)",
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


def command_router(commands: CommandService, devices: DeviceRegistry, max_count: Callable[[], int]) -> APIRouter:
    """core-command routes."""
    r = APIRouter(tags=["command"])

    @r.get(f"{PREFIX}/all", response_model=MultiDeviceCoreCommandsResponse)
    async def all_commands(offset: str | None = None, limit: str | None = None) -> JSONResponse:
        items, total = page_of(devices.all(), parse_page(offset, limit, max_count()))
        out = [commands.core_commands(d) for d in items]
        return json_response(MultiDeviceCoreCommandsResponse(total_count=total, device_core_commands=out))

    @r.get(f"{PREFIX}/name/{{name}}", response_model=DeviceCoreCommandResponse)
    async def device_commands(name: str) -> JSONResponse:
        return json_response(
            DeviceCoreCommandResponse(device_core_command=commands.core_commands(devices.store.get(name)))
        )

    @r.get(f"{PREFIX}/name/{{name}}/{{command}}", response_model=EventResponse)
    async def get_command(name: str, command: str, request: Request) -> Response:
        query = dict(request.query_params)
        res = await commands.execute(name, command, "get", query, b"", request.headers.get("x-correlation-id", ""))
        if not res.payload:
            return Response(status_code=200)
        return Response(res.payload, status_code=200, media_type=res.content_type or "application/json")

    @r.put(f"{PREFIX}/name/{{name}}/{{command}}", response_model=BaseResponse, openapi_extra=SET_BODY)
    async def set_command(name: str, command: str, request: Request) -> JSONResponse:
        query = dict(request.query_params)
        body = await request.body()
        await commands.execute(name, command, "set", query, body, request.headers.get("x-correlation-id", ""))
        return json_response(BaseResponse())

    return r
