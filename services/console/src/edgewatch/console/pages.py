"""The console's pages: login / logout, the app shell and its static files (no secret is ever put in a page)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from edgewatch.console.config import ConsoleSection
from edgewatch.console.errors import LoginRefusedError
from edgewatch.console.login import TokenCheck
from edgewatch.console.security import UI_PREFIX
from edgewatch.console.session import COOKIE, SessionStore

__all__ = ["STATIC_DIR", "LoginRequest", "pages_router"]

STATIC_DIR = Path(__file__).parent / "static"


class LoginRequest(BaseModel):
    token: str = Field(min_length=1, max_length=4096, description="The suite's REST bearer token")


def pages_router(sessions: SessionStore, check: TokenCheck, cfg: ConsoleSection) -> APIRouter:
    """Routes for the pages; ``/ui/`` answers the app shell only with a live session, else the login page."""
    r = APIRouter()

    @r.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{UI_PREFIX}/", status_code=303)

    @r.get(f"{UI_PREFIX}/", include_in_schema=False)
    async def shell(request: Request) -> Response:
        if sessions.get(request.cookies.get(COOKIE)) is None:
            return RedirectResponse(f"{UI_PREFIX}/login", status_code=303)
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @r.get(f"{UI_PREFIX}/login", include_in_schema=False)
    async def login_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "login.html", media_type="text/html")

    @r.post(f"{UI_PREFIX}/login")
    async def login(req: LoginRequest) -> JSONResponse:
        if not await check.accepts(req.token):
            await asyncio.sleep(cfg.login_failure_delay)  # slows guessing; the answer says nothing more
            raise LoginRefusedError()
        sid, _ = sessions.create(req.token)
        resp = JSONResponse({"statusCode": 200, "message": "logged in"})
        resp.set_cookie(
            COOKIE,
            sid,
            max_age=int(cfg.session_max_age),
            httponly=True,
            samesite="strict",
            secure=cfg.secure_cookie,
            path="/",
        )
        return resp

    @r.post(f"{UI_PREFIX}/logout")
    async def logout(request: Request) -> JSONResponse:
        sessions.drop(request.cookies.get(COOKIE))
        resp = JSONResponse({"statusCode": 200, "message": "logged out"})
        resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=cfg.secure_cookie)
        return resp

    return r
