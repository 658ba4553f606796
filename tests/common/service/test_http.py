"""Common REST surface: ping/version/config/health/metrics, EdgeX error bodies, correlation IDs, bearer auth."""

from __future__ import annotations

import uuid

import httpx
from pydantic import BaseModel

from edgewatch.common.contracts.errors import NotFoundError
from edgewatch.common.service.host import ServiceHost
from edgewatch.common.service.settings import ServiceSettings
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer


class _Body(BaseModel):
    name: str
    count: int


def _host(nats_server: NatsServer, token: str = "") -> ServiceHost:
    s = ServiceSettings(message_bus=bus_settings(nats_server))
    s.service.auth_token = token
    host = ServiceHost("svc-x", s)
    app = host.new_app("x", 0)

    @app.get("/api/v3/thing/{name}")
    async def thing(name: str) -> dict[str, str]:
        raise NotFoundError(f"thing {name} does not exist")

    @app.post("/api/v3/thing")
    async def make(body: _Body) -> dict[str, str]:
        return {"name": body.name}

    return host


async def test_ping_version_config_health_answer_edgex_shapes(nats_server: NatsServer) -> None:
    async with _host(nats_server) as host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://t") as c:
            ping = (await c.get("/api/v3/ping")).json()
            assert ping["apiVersion"] == "v3" and ping["serviceName"] == "svc-x" and ping["timestamp"].endswith("GMT")
            assert (await c.get("/api/v3/version")).json() == {
                "apiVersion": "v3",
                "version": host.version,
                "serviceName": "svc-x",
            }
            cfg = (await c.get("/api/v3/config")).json()
            assert cfg["config"]["MessageBus"]["Servers"] == [nats_server.url]
            health = await c.get("/api/v3/health")
            assert health.status_code == 200 and health.json()["busConnected"] is True
            metrics = await c.get("/metrics")
            assert b"edgewatch_bus_connected 1.0" in metrics.content


async def test_errors_are_edgex_bodies_and_validation_names_the_field(nats_server: NatsServer) -> None:
    async with _host(nats_server) as host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://t") as c:
            r = await c.get("/api/v3/thing/abc")
            assert r.status_code == 404
            assert r.json() == {"apiVersion": "v3", "message": "thing abc does not exist", "statusCode": 404}
            r = await c.post("/api/v3/thing", json={"name": "a", "count": "many"})
            assert r.status_code == 400 and "count" in r.json()["message"]
            r = await c.post("/api/v3/thing", content=b"{not json", headers={"content-type": "application/json"})
            assert r.status_code == 400 and "JSON" in r.json()["message"]
            r = await c.get("/api/v3/nothing-here")
            assert r.status_code == 404 and r.json()["statusCode"] == 404


async def test_correlation_id_is_echoed_or_generated(nats_server: NatsServer) -> None:
    async with _host(nats_server) as host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://t") as c:
            r = await c.get("/api/v3/ping", headers={"X-Correlation-ID": "abc-123"})
            assert r.headers["X-Correlation-ID"] == "abc-123"
            r = await c.get("/api/v3/ping")
            uuid.UUID(r.headers["X-Correlation-ID"])


async def test_bearer_token_protects_everything_but_ping(nats_server: NatsServer) -> None:
    async with _host(nats_server, token="s3cret") as host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://t") as c:
            assert (await c.get("/api/v3/ping")).status_code == 200
            r = await c.get("/api/v3/config")
            assert r.status_code == 401 and r.json()["statusCode"] == 401
            assert (await c.get("/api/v3/config", headers={"Authorization": "Bearer wrong"})).status_code == 401
            ok = await c.get("/api/v3/config", headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 200
            assert ok.json()["config"]["Service"]["AuthToken"] == "***"  # secrets are redacted


async def test_public_paths_are_left_to_the_service_and_nothing_else(nats_server: NatsServer) -> None:
    s = ServiceSettings(message_bus=bus_settings(nats_server))
    s.service.auth_token = "s3cret"
    host = ServiceHost("svc-p", s)
    app = host.new_app("p", 0, public=lambda path: path.startswith("/ui/"))

    @app.get("/ui/page")
    async def page() -> dict[str, str]:
        return {"page": "guarded by the service itself"}

    async with host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://t") as c:
            assert (await c.get("/ui/page")).status_code == 200
            assert (await c.get("/api/v3/config")).status_code == 401
            assert (await c.get("/uix")).status_code == 401
