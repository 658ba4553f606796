"""Device-service REST API (device-sdk.yaml): GET / PUT /api/v3/device/name/{name}/{command}."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.event import EventResponse
from edgewatch.common.contracts.limits import check_json_depth
from edgewatch.common.service.http import API_PREFIX
from edgewatch.ingest.commands import CommandService

__all__ = ["command_router"]

_BOOL = {"true": True, "false": False, "yes": True, "no": False}


def _flag(request: Request, key: str, default: bool) -> bool:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    v = _BOOL.get(raw.strip().lower())
    if v is None:
        raise ContractInvalidError(f"query parameter {key} must be true or false, got {raw!r}", field=key)
    return v


def command_router(commands: CommandService, max_depth: Callable[[], int] = lambda: 32) -> APIRouter:
    """Routes of the device command API (SET bodies of any content type within ``max_depth``)."""
    router = APIRouter()

    @router.get(f"{API_PREFIX}/device/name/{{name}}/{{command}}")
    async def get_command(name: str, command: str, request: Request) -> Response:
        push = _flag(request, "ds-pushevent", False)
        ret = _flag(request, "ds-returnevent", True)
        regex = _flag(request, "ds-regexcmd", True)
        event = await commands.get(name, command, push_event=push, regex=regex)
        if not ret:
            return Response(status_code=200)
        return Response(EventResponse(event=event).to_json(), media_type="application/json")

    @router.put(f"{API_PREFIX}/device/name/{{name}}/{{command}}")
    async def set_command(name: str, command: str, request: Request) -> JSONResponse:
        body = await request.body()
        check_json_depth(body, max_depth())
        try:
            settings: Any = json.loads(body) if body else None
        except ValueError as e:
            raise ContractInvalidError(f"malformed JSON body: {e}", field="body") from None
        if not isinstance(settings, dict):
            raise ContractInvalidError("body must be a JSON object of resource values", field="body")
        await commands.set(name, command, settings)
        return JSONResponse(BaseResponse(status_code=200).to_dict())

    return router
