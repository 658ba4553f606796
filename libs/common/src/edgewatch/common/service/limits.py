"""Request body limits before any work is done: size per route and JSON nesting depth, answered as EdgeX errors.

Every REST app gets :class:`BodyLimitMiddleware` (``install_common``). It answers 413 when ``Content-Length``
is over the route's limit without reading the body, else reads the body (never more than the limit) and, for
JSON bodies, refuses nesting deeper than ``Service.MaxDocumentDepth`` with 400 before the route parses it. The
default limit is ``Service.MaxRequestSize`` (KB, EdgeX's key; 0 = no limit); a route that has its own limit
(core-data events: ``MaxEventSize``, model uploads, sync batches) registers it with :func:`route_limit`.
Refusals are EdgeX error bodies naming the limit, counted in ``edgewatch_limit_refusals{limit}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.limits import json_depth_exceeds
from edgewatch.common.contracts.yamlsafe import YamlBudget
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSection

__all__ = ["KB", "BodyLimitMiddleware", "BodyLimits", "RouteLimit", "route_limit", "yaml_budget"]

KB = 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def yaml_budget(service: ServiceSection) -> YamlBudget:
    """The YAML budget of a service: a document as large as a request, its depth and alias budgets."""
    return YamlBudget(
        max_bytes=service.max_request_size * KB,
        max_depth=service.max_document_depth,
        max_alias_nodes=service.max_yaml_alias_nodes,
    )


@dataclass(frozen=True)
class RouteLimit:
    """A body limit for ``prefix`` and the paths below it (only ``prefix`` itself when ``exact``); ``json_depth``
    False when the route checks depth itself."""

    prefix: str
    max_bytes: Callable[[], int]
    setting: str
    json_depth: bool = True
    exact: bool = False

    def matches(self, path: str) -> bool:
        """Whether ``path`` is this route's."""
        return path == self.prefix or (not self.exact and path.startswith(self.prefix.rstrip("/") + "/"))


class BodyLimits:
    """One app's limits: the service default plus per-route overrides (longest prefix wins)."""

    def __init__(self, service: Callable[[], ServiceSection], metrics: ServiceMetrics) -> None:
        self.service = service
        self.metrics = metrics
        self.routes: list[RouteLimit] = []

    def add(self, limit: RouteLimit) -> None:
        """Register a route's own limit."""
        self.routes.append(limit)
        self.routes.sort(key=lambda r: len(r.prefix), reverse=True)

    def for_path(self, path: str) -> tuple[int, str, bool]:
        """(max bytes, setting name, check JSON depth) for a request path."""
        for r in self.routes:
            if r.matches(path):
                return r.max_bytes(), r.setting, r.json_depth
        return self.service().max_request_size * KB, "Service.MaxRequestSize", True

    def refused(self, limit: str, status: int) -> None:
        """Count one refusal."""
        self.metrics.limit_refusals.labels(limit.rsplit(".", 1)[-1]).inc()
        self.metrics.http_errors.labels(str(status)).inc()


def route_limit(
    app: FastAPI,
    prefix: str,
    max_bytes: Callable[[], int],
    setting: str,
    *,
    json_depth: bool = True,
    exact: bool = False,
) -> None:
    """Give ``prefix`` (and the paths below it unless ``exact``) of ``app`` its own body limit in bytes (0 = none)."""
    limits: BodyLimits = app.state.body_limits
    limits.add(RouteLimit(prefix, max_bytes, setting, json_depth, exact))


def _is_json(headers: dict[bytes, bytes]) -> bool:
    ct = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    return not ct or ct == b"application/json" or ct.endswith(b"+json")


def _refusal(status: int, message: str) -> JSONResponse:
    body = BaseResponse(status_code=status, message=message)
    return JSONResponse(body.to_dict(), status_code=status)


class BodyLimitMiddleware:
    """Pure-ASGI: refuse oversized or over-deep bodies before the app reads them; replay accepted bodies."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        max_bytes, setting, json_depth = self.limits.for_path(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if max_bytes and declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, receive, send, 413, setting, f"body: {int(declared)} bytes exceeds {setting}")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if max_bytes and size > max_bytes:
                await self._refuse(scope, receive, send, 413, setting, f"body: more than {max_bytes} bytes ({setting})")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        depth = self.limits.service().max_document_depth
        if json_depth and body and _is_json(headers) and json_depth_exceeds(body, depth):
            msg = f"body: JSON nests deeper than Service.MaxDocumentDepth ({depth})"
            await self._refuse(scope, receive, send, 400, "Service.MaxDocumentDepth", msg)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, setting: str, msg: str) -> None:
        self.limits.refused(setting, status)
        limit = (self.limits.for_path(scope.get("path", ""))[0] + KB - 1) // KB
        text = f"{msg} ({limit} KB)" if status == 413 and limit else msg
        await _refusal(status, text)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for http.disconnect as the server would deliver it

    return replay
