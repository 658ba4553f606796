"""REST routes of edgewatch-rules: rule CRUD, validate, dry run, start/stop, status, recent alerts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.service.http import API_PREFIX
from edgewatch.rules.dryrun import DryRunRequest
from edgewatch.rules.engine import RuleRuntime
from edgewatch.rules.manager import RuleManager
from edgewatch.rules.rule import Rule
from edgewatch.rules.state import RunState

__all__ = ["router", "status_doc"]


def _ok(code: int = 200, **body: Any) -> JSONResponse:
    return JSONResponse({"apiVersion": API_VERSION, "statusCode": code, **body}, status_code=code)


def status_doc(rt: RuleRuntime) -> dict[str, Any]:
    """A rule's run state and per-device alert states."""
    return {
        "name": rt.rule.name,
        "state": rt.run_state.value,
        "lastError": rt.last_error,
        "raises": rt.raises,
        "devices": {
            d: {
                "alertState": s.state.value,
                "lastValue": s.last_value,
                "lastSample": s.last_sample_ns,
                "stale": s.stale,
            }
            for d, s in sorted(rt.devices.items())
        },
    }


def router(manager: RuleManager) -> APIRouter:
    """Routes bound to one manager."""
    r = APIRouter(prefix=API_PREFIX)
    engine = manager.engine

    @r.post("/rule")
    async def create(rule: Rule) -> JSONResponse:
        await manager.create(rule)
        return _ok(201, name=rule.name)

    @r.post("/rule/validate")
    async def validate(rule: Rule) -> JSONResponse:
        return _ok(valid=True, rule=rule.to_doc())

    @r.post("/rule/dryrun")
    async def dryrun(req: DryRunRequest) -> JSONResponse:
        return _ok(**await manager.dry_run(req))

    @r.get("/rule")
    async def all_rules() -> JSONResponse:
        items = [{"rule": rt.rule.to_doc(), "status": status_doc(rt)} for rt in engine.rules.values()]
        return _ok(totalCount=len(items), rules=items)

    @r.get("/rule/name/{name}")
    async def one(name: str) -> JSONResponse:
        rt = engine.get(name)
        return _ok(rule=rt.rule.to_doc(), status=status_doc(rt))

    @r.put("/rule/name/{name}")
    async def replace(name: str, rule: Rule) -> JSONResponse:
        if rule.name != name:
            raise ContractInvalidError(f"name: body name {rule.name!r} differs from path name {name!r}", field="name")
        await manager.replace(rule)
        return _ok(name=name)

    @r.delete("/rule/name/{name}")
    async def delete(name: str) -> JSONResponse:
        await manager.delete(name)
        return _ok(name=name)

    @r.get("/rule/name/{name}/status")
    async def status(name: str) -> JSONResponse:
        return _ok(status=status_doc(engine.get(name)))

    @r.post("/rule/name/{name}/start")
    async def start(name: str) -> JSONResponse:
        return _ok(status=status_doc(manager.set_run_state(name, RunState.RUNNING)))

    @r.post("/rule/name/{name}/stop")
    async def stop(name: str) -> JSONResponse:
        return _ok(status=status_doc(manager.set_run_state(name, RunState.STOPPED)))

    @r.get("/alert")
    async def alerts(rule: str = Query("", description="Only this rule's alerts")) -> JSONResponse:
        items = [a.model_dump(by_alias=True) for a in manager.actuator.recent if not rule or a.rule == rule]
        return _ok(totalCount=len(items), alerts=items)

    return r
