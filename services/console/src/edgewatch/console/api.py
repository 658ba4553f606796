"""JSON routes of the console's pages (``/ui/api``): each checks the session, calls a service, relays the answer.

Mutations need the session's CSRF token in ``X-CSRF-Token`` (the page reads it from ``/ui/api/session``); the REST
token never leaves the server. Errors keep the service's status and message, split per field for the forms.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from edgewatch.console.config import ConsoleSection
from edgewatch.console.live import LiveHub
from edgewatch.console.modelview import build_models, refusal_reasons
from edgewatch.console.overview import build_overview, field_errors
from edgewatch.console.security import UI_PREFIX, require_session
from edgewatch.console.session import COOKIE, Session, SessionStore
from edgewatch.console.stream import sse_frames
from edgewatch.console.upstream import Reply, Upstream

__all__ = ["api_router", "relay"]

JsonBody = Annotated[dict[str, Any], Body()]


def relay(reply: Reply) -> JSONResponse:
    """The service's answer as is; an error gets ``errors: [{field, message}]`` for the form to show."""
    status = reply.status or 502
    body = reply.body if isinstance(reply.body, dict) else {"items": reply.body}
    if status >= 400:
        body = {**body, "errors": field_errors(str(body.get("message", "")))}
    return JSONResponse(body, status_code=status)


def _multi(reply: Reply) -> JSONResponse:
    """An EdgeX 207 multi-status of one item answered with that item's own status."""
    if reply.status == 207 and isinstance(reply.body, list) and reply.body:
        item = reply.body[0]
        return relay(Reply(int(item.get("statusCode", 500)), item))
    return relay(reply)


def api_router(sessions: SessionStore, upstream: Upstream, hub: LiveHub, cfg: ConsoleSection) -> APIRouter:
    """Routes bound to one session store, one upstream client and one live hub."""
    r = APIRouter(prefix=f"{UI_PREFIX}/api")

    def session(request: Request) -> Session:
        return require_session(sessions, request)

    auth = Depends(session)  # a default, not Annotated: these annotations are strings resolved at module level

    @r.get("/session")
    async def session_info(s: Session = auth) -> dict[str, Any]:
        return {"csrf": s.csrf, "idleTimeout": sessions.idle_timeout}

    @r.get("/overview")
    async def overview(s: Session = auth) -> dict[str, Any]:
        return await build_overview(upstream, hub, s.token)

    @r.get("/stream/{device}")
    async def stream(device: str, request: Request, _: Session = auth) -> StreamingResponse:
        sid = request.cookies.get(COOKIE, "")
        return StreamingResponse(
            sse_frames(hub, sessions, sid, device, cfg.keepalive),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )

    @r.get("/devices")
    async def devices(s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("core-metadata", "GET", "/device/all?limit=-1", s.token))

    @r.get("/devices/{name}")
    async def device(name: str, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("core-metadata", "GET", f"/device/name/{quote(name, safe='')}", s.token))

    @r.post("/devices")
    async def add_device(doc: JsonBody, s: Session = auth) -> JSONResponse:
        body = [{"apiVersion": "v3", "device": doc}]
        return _multi(await upstream.call("core-metadata", "POST", "/device", s.token, json=body))

    @r.get("/profiles")
    async def profiles(s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("core-metadata", "GET", "/deviceprofile/basicinfo/all?limit=-1", s.token))

    @r.post("/profiles")
    async def upload_profile(request: Request, s: Session = auth) -> JSONResponse:
        files = {"file": ("profile.yaml", await request.body(), "application/x-yaml")}
        return relay(await upstream.call("core-metadata", "POST", "/deviceprofile/uploadfile", s.token, files=files))

    @r.get("/rules")
    async def rules(s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "GET", "/rule", s.token))

    @r.post("/rules")
    async def create_rule(doc: JsonBody, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "POST", "/rule", s.token, json=doc))

    @r.put("/rules/{name}")
    async def replace_rule(name: str, doc: JsonBody, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "PUT", f"/rule/name/{quote(name, safe='')}", s.token, json=doc))

    @r.delete("/rules/{name}")
    async def delete_rule(name: str, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "DELETE", f"/rule/name/{quote(name, safe='')}", s.token))

    @r.post("/rules/{name}/start")
    async def start_rule(name: str, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "POST", f"/rule/name/{quote(name, safe='')}/start", s.token))

    @r.post("/rules/{name}/stop")
    async def stop_rule(name: str, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "POST", f"/rule/name/{quote(name, safe='')}/stop", s.token))

    @r.get("/alerts")
    async def alerts(s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("rules", "GET", "/alert", s.token))

    @r.get("/models")
    async def models(s: Session = auth) -> JSONResponse:
        return relay(await build_models(upstream, s.token))

    @r.get("/models/all")
    async def all_models(s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("inference", "GET", "/model", s.token))

    @r.post("/models/rollback")
    async def rollback(doc: JsonBody, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("inference", "POST", "/model/rollback", s.token, json=doc))

    @r.post("/models/activate")
    async def activate(doc: JsonBody, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("inference", "POST", "/model/activate", s.token, json=doc))

    @r.post("/models/shadow")
    async def start_shadow(doc: JsonBody, s: Session = auth) -> JSONResponse:
        return relay(await upstream.call("inference", "POST", "/model/shadow", s.token, json=doc))

    @r.delete("/models/shadow")
    async def stop_shadow(device: str = "", s: Session = auth) -> JSONResponse:
        return relay(
            await upstream.call("inference", "DELETE", f"/model/shadow?device={quote(device, safe='')}", s.token)
        )

    @r.post("/models/promote")
    async def promote(doc: JsonBody, s: Session = auth) -> JSONResponse:
        """Promote the slot's shadow; a 409 lists the failing criteria in ``reasons`` (``force`` overrides)."""
        reply = await upstream.call("inference", "POST", "/model/promote", s.token, json=doc)
        if reply.status == 409 and isinstance(reply.body, dict):
            reply = Reply(409, {**reply.body, "reasons": refusal_reasons(str(reply.body.get("message", "")))})
        return relay(reply)

    @r.put("/thresholds/{device}")
    async def threshold(device: str, doc: JsonBody, s: Session = auth) -> JSONResponse:
        return relay(
            await upstream.call("inference", "PUT", f"/threshold/device/{quote(device, safe='')}", s.token, json=doc)
        )

    return r
