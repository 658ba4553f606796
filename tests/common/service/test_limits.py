"""Body limits: 413 over Service.MaxRequestSize (declared or streamed) before the route runs, per-route limits,
400 for JSON nested deeper than Service.MaxDocumentDepth, auth first, refusals counted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from edgewatch.common.service.http import install_common
from edgewatch.common.service.limits import route_limit
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSettings

KB = 1024


def _app(**service: Any) -> tuple[FastAPI, ServiceMetrics, list[int]]:
    settings = ServiceSettings.model_validate({"Service": {"MaxRequestSize": 4, "MaxDocumentDepth": 5, **service}})
    metrics = ServiceMetrics("svc")
    app = FastAPI()
    install_common(app, "svc", "1", lambda: settings, metrics)
    seen: list[int] = []

    @app.post("/api/v3/thing")
    async def thing(body: list[Any]) -> dict[str, int]:
        seen.append(len(body))
        return {"items": len(body)}

    @app.post("/api/v3/big/raw")
    async def raw(request: Request) -> dict[str, int]:
        n = len(await request.body())
        seen.append(n)
        return {"bytes": n}

    route_limit(app, "/api/v3/big", lambda: 64 * KB, "Writable.MaxBigSize", json_depth=False)
    return app, metrics, seen


def _client(app: FastAPI, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t", headers=headers)


def _refusals(metrics: ServiceMetrics, limit: str) -> float:
    return metrics.registry.get_sample_value("edgewatch_limit_refusals_total", {"limit": limit}) or 0.0


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_body_over_max_request_size_is_413_before_the_route_runs() -> None:
    app, metrics, seen = _app()
    async with _client(app) as c:
        r = await c.post(
            "/api/v3/thing", content=json.dumps(["x" * 100] * 50), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        body = r.json()
        assert body["statusCode"] == 413 and "Service.MaxRequestSize" in body["message"] and "4 KB" in body["message"]
        assert r.headers["x-correlation-id"]
        ok = await c.post("/api/v3/thing", json=["x"] * 10)
        assert ok.status_code == 200 and ok.json() == {"items": 10}
    assert seen == [10]
    assert _refusals(metrics, "MaxRequestSize") == 1


async def test_streamed_body_without_length_is_cut_off_at_the_limit() -> None:
    app, metrics, seen = _app()
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1000):
            sent.append(1)
            yield b"x" * 1024

    async with _client(app) as c:
        r = await c.post("/api/v3/big/raw", content=chunks())
    assert r.status_code == 413 and "Writable.MaxBigSize" in r.json()["message"]
    assert seen == [] and len(sent) < 1000
    assert _refusals(metrics, "MaxBigSize") == 1


async def test_route_limit_overrides_the_service_default() -> None:
    app, _, seen = _app()
    async with _client(app) as c:
        assert (await c.post("/api/v3/big/raw", content=b"y" * 60 * KB)).json() == {"bytes": 60 * KB}
        assert (await c.post("/api/v3/big/raw", content=b"y" * 65 * KB)).status_code == 413
        assert (await c.post("/api/v3/thing", content=b"[" + b"1," * 3000 + b"1]")).status_code == 413
    assert seen == [60 * KB]


@pytest.mark.parametrize(("depth", "status"), [(5, 200), (6, 400), (60_000, 413)])
async def test_json_nested_beyond_max_document_depth_is_400(depth: int, status: int) -> None:
    app, metrics, _ = _app(MaxRequestSize=100)
    async with _client(app) as c:
        r = await c.post("/api/v3/thing", content=_nested(depth), headers={"content-type": "application/json"})
    assert r.status_code == status
    if status == 400:
        assert "Service.MaxDocumentDepth (5)" in r.json()["message"]
        assert _refusals(metrics, "MaxDocumentDepth") == 1


async def test_routes_that_check_depth_themselves_and_non_json_bodies_skip_the_depth_check() -> None:
    app, _, seen = _app()
    async with _client(app) as c:
        assert (await c.post("/api/v3/big/raw", content=_nested(50))).status_code == 200
        r = await c.post("/api/v3/thing", content=_nested(50), headers={"content-type": "text/plain"})
        assert r.status_code != 400 or "MaxDocumentDepth" not in r.json()["message"]
    assert seen[0] == 100


async def test_unauthenticated_oversized_request_is_401_not_413() -> None:
    app, metrics, _ = _app(AuthToken="s3cret")
    async with _client(app) as c:
        r = await c.post("/api/v3/thing", content=b"x" * 10 * KB)
        assert r.status_code == 401
        ok = await c.post("/api/v3/thing", json=[1], headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    assert _refusals(metrics, "MaxRequestSize") == 0


async def test_max_request_size_zero_means_no_limit() -> None:
    app, _, seen = _app(MaxRequestSize=0)
    async with _client(app) as c:
        assert (await c.post("/api/v3/thing", json=["x" * 1000] * 100)).status_code == 200
    assert seen == [100]
