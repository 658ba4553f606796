"""REST routes of shadow scoring: start/stop a shadow, its live criteria, promotion (probation follows)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.service.http import API_PREFIX
from edgewatch.inference.engine import InferenceEngine
from edgewatch.inference.models import RegistryName

__all__ = ["PromoteRequest", "ShadowRequest", "shadow_router"]


class _Req(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", alias_generator=to_camel)

    api_version: str = API_VERSION


class ShadowRequest(_Req):
    """Score a stored model beside the slot's serving model."""

    name: RegistryName
    version: RegistryName
    device: str = Field("", description="The device's slot (empty = the default slot '*')")


class PromoteRequest(_Req):
    """Promote the slot's shadow model."""

    device: str = ""
    force: bool = Field(False, description="Promote even if a live criterion fails (the probation still applies)")


def _ok(status: int = 200, **body: Any) -> JSONResponse:
    return JSONResponse({"apiVersion": API_VERSION, "statusCode": status, **body}, status_code=status)


def _criteria(engine: InferenceEngine) -> dict[str, Any]:
    c = engine.cfg
    return {
        "shadowMinVectors": c.shadow_min_vectors,
        "shadowMaxAlarmRateDiff": c.shadow_max_alarm_rate_diff,
        "shadowMinAgreement": c.shadow_min_agreement,
        "shadowAutoPromote": c.shadow_auto_promote,
        "probationVectors": c.probation_vectors,
        "probationMinVectors": c.probation_min_vectors,
        "probationMaxAlarmRateDiff": c.probation_max_alarm_rate_diff,
    }


def shadow_router(engine: InferenceEngine) -> APIRouter:
    """Routes bound to one engine."""
    r = APIRouter(prefix=f"{API_PREFIX}/model")

    @r.post("/shadow")
    async def start(req: ShadowRequest) -> JSONResponse:
        run = await engine.start_shadow(req.name, req.version, req.device)
        return _ok(201, shadow=run.view(engine.cfg))

    @r.get("/shadow")
    async def status() -> JSONResponse:
        return _ok(**engine.shadow_status(), criteria=_criteria(engine))

    @r.delete("/shadow")
    async def stop(device: str = "") -> JSONResponse:
        engine.stop_shadow(device)
        return _ok(slot=device or "*")

    @r.post("/promote")
    async def promote(req: PromoteRequest) -> JSONResponse:
        model = await engine.promote(req.device, force=req.force)
        return _ok(model={"name": model.meta.name, "version": model.meta.version}, slot=req.device or "*")

    return r
