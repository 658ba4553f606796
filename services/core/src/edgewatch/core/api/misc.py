"""/uom (units of measure, JSON or TOML-ish text by Accept) and POST /secret (accepted, kept in memory)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from edgewatch.common.contracts.base import API_VERSION, BaseRequest, BaseResponse, EdgeXModel
from edgewatch.core.api.common import json_response
from edgewatch.core.metadata.uom import UnitsOfMeasure

__all__ = ["SecretRequest", "secret_router", "uom_router"]


def uom_router(uom: UnitsOfMeasure) -> APIRouter:
    """GET /uom."""
    r = APIRouter(tags=["uom"])

    @r.get("/api/v3/uom")
    async def get_uom(request: Request) -> Response:
        if "toml" in request.headers.get("accept", ""):
            lines = [f'Source = "{uom.document.get("Source", "")}"']
            for cat, body in (uom.document.get("Units") or {}).items():
                lines.append(f"[Units.{cat}]")
                lines.append(f"Values = {json.dumps(list(body.get('Values', [])))}")
            return Response("\n".join(lines) + "\n", media_type="application/toml")
        return JSONResponse({"apiVersion": API_VERSION, "statusCode": 200, "uom": uom.document})

    return r


class SecretDataKeyValue(EdgeXModel):
    """One key/value of a secret."""

    key: str = Field(min_length=1)
    value: str


class SecretRequest(BaseRequest):
    """POST /secret body."""

    secret_name: str = Field(min_length=1)
    secret_data: list[SecretDataKeyValue] = Field(min_length=1)


def secret_router(secrets: dict[str, dict[str, str]]) -> APIRouter:
    """POST /secret -> 201 (secrets are kept in this process's memory only)."""
    r = APIRouter(tags=["secret"])

    @r.post("/api/v3/secret", status_code=201, response_model=BaseResponse)
    async def add_secret(req: SecretRequest) -> JSONResponse:
        secrets[req.secret_name] = {kv.key: kv.value for kv in req.secret_data}
        return json_response(BaseResponse(request_id=req.request_id), 201)

    return r
