"""Common REST surface: ping/version/config/health/metrics, correlation IDs, auth, EdgeX error bodies."""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgewatch.common.contracts.base import API_VERSION, BaseResponse
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.limits import LimitError
from edgewatch.common.service.limits import BodyLimitMiddleware, BodyLimits
from edgewatch.common.service.logging import correlation_id
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSettings

__all__ = [
    "API_PREFIX",
    "CORRELATION_HEADER",
    "CorrelationAuthMiddleware",
    "common_router",
    "edgex_error_response",
    "install_common",
    "validation_message",
]

API_PREFIX = "/api/v3"
CORRELATION_HEADER = "X-Correlation-ID"
OPEN_PATHS = frozenset({f"{API_PREFIX}/ping", f"{API_PREFIX}/version", "/metrics", f"{API_PREFIX}/health"})
_SECRET_KEYS = ("password", "token", "secret", "credentials")

log = logging.getLogger(__name__)


def edgex_error_response(status: int, message: str, request_id: str = "") -> JSONResponse:
    """An EdgeX error body: ``BaseResponse`` with ``statusCode`` equal to the HTTP status."""
    body = BaseResponse(status_code=status, message=message, request_id=request_id)
    return JSONResponse(body.to_dict(), status_code=status)


def validation_message(exc: RequestValidationError) -> str:
    """One readable message naming each offending field (``body.profile.name: Field required``)."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        if err.get("type") == "json_invalid":
            parts.append(f"malformed JSON body: {err.get('ctx', {}).get('error', err.get('msg'))}")
        else:
            parts.append(f"{loc}: {err.get('msg')}")
    return "; ".join(parts) or "invalid request"


class CorrelationAuthMiddleware:
    """Pure-ASGI middleware: echo/assign ``X-Correlation-ID``; enforce the bearer token when configured."""

    def __init__(
        self, app: ASGIApp, token_getter: Callable[[], str], public: Callable[[str], bool] | None = None
    ) -> None:
        self.app = app
        self.token_getter = token_getter
        # paths the service guards itself (the console's web pages use a session cookie, not a bearer token)
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cid = headers.get(b"x-correlation-id", b"").decode("latin-1") or str(uuid.uuid4())
        token = correlation_id.set(cid)
        try:
            expected = self.token_getter()
            path = scope.get("path", "")
            if expected and path not in OPEN_PATHS and not (self.public is not None and self.public(path)):
                got = headers.get(b"authorization", b"").decode("latin-1")
                if not hmac.compare_digest(got.encode(), f"Bearer {expected}".encode()):
                    resp = edgex_error_response(401, "missing or invalid bearer token")
                    resp.headers[CORRELATION_HEADER] = cid
                    await resp(scope, receive, send)
                    return

            async def send_with_cid(message: Message) -> None:
                if message["type"] == "http.response.start":
                    hdrs = list(message.get("headers") or [])
                    hdrs.append((CORRELATION_HEADER.encode(), cid.encode("latin-1")))
                    message = {**message, "headers": hdrs}
                await send(message)

            await self.app(scope, receive, send_with_cid)
        finally:
            correlation_id.reset(token)


def _redact(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: ("***" if v and any(s in k.lower() for s in _SECRET_KEYS) else _redact(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact(v) for v in obj]
    return obj


def common_router(
    service_name: str,
    version: str,
    settings_getter: Callable[[], ServiceSettings],
    metrics: ServiceMetrics,
    health: Callable[[], dict[str, Any]] | None = None,
    *,
    sdk_version: str | None = None,
) -> APIRouter:
    """Routes every service answers: ``/api/v3/ping|version|config|health`` and ``/metrics``."""
    router = APIRouter()

    @router.get(f"{API_PREFIX}/ping")
    async def ping() -> dict[str, str]:
        return {
            "apiVersion": API_VERSION,
            "timestamp": formatdate(time.time(), usegmt=True),
            "serviceName": service_name,
        }

    @router.get(f"{API_PREFIX}/version")
    async def version_() -> dict[str, str]:
        out = {"apiVersion": API_VERSION, "version": version, "serviceName": service_name}
        if sdk_version is not None:
            out["sdk_version"] = sdk_version
        return out

    @router.get(f"{API_PREFIX}/config")
    async def config() -> dict[str, Any]:
        cfg = settings_getter().model_dump(mode="json", by_alias=True)
        return {"apiVersion": API_VERSION, "config": _redact(cfg), "serviceName": service_name}

    @router.get(f"{API_PREFIX}/health")
    async def health_() -> JSONResponse:
        state = health() if health else {}
        ok = all(bool(v) for k, v in state.items() if k.endswith("ok") or k == "busConnected")
        body = {"apiVersion": API_VERSION, "serviceName": service_name, "healthy": ok, **state}
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics")
    async def metrics_() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return router


def install_common(
    app: FastAPI,
    service_name: str,
    version: str,
    settings_getter: Callable[[], ServiceSettings],
    metrics: ServiceMetrics,
    health: Callable[[], dict[str, Any]] | None = None,
    *,
    sdk_version: str | None = None,
    public: Callable[[str], bool] | None = None,
) -> None:
    """Add the common routes, the correlation/auth and body-limit middleware and EdgeX error handlers to ``app``.

    ``public(path)`` true exempts a path from the bearer token: the service guards it itself (the console's pages).
    """
    app.include_router(common_router(service_name, version, settings_getter, metrics, health, sdk_version=sdk_version))

    def token() -> str:
        try:
            return settings_getter().service.bearer_token()
        except OSError:
            log.error("cannot read Service.AuthTokenFile; refusing all protected requests")
            return str(uuid.uuid4())

    # Body limits inside auth: an unauthenticated request is refused before its body is read.
    app.state.body_limits = BodyLimits(lambda: settings_getter().service, metrics)
    app.add_middleware(BodyLimitMiddleware, limits=app.state.body_limits)
    app.add_middleware(CorrelationAuthMiddleware, token_getter=token, public=public)

    @app.exception_handler(EdgeXError)
    async def _edgex(_: Request, exc: EdgeXError) -> JSONResponse:
        metrics.http_errors.labels(str(exc.status)).inc()
        if isinstance(exc, LimitError):
            metrics.limit_refusals.labels(exc.limit).inc()
        return edgex_error_response(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.http_errors.labels("400").inc()
        return edgex_error_response(400, validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        metrics.http_errors.labels(str(exc.status_code)).inc()
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return edgex_error_response(exc.status_code, detail)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        metrics.http_errors.labels("500").inc()
        log.exception("unhandled error")
        return edgex_error_response(500, f"internal error: {type(exc).__name__}")
