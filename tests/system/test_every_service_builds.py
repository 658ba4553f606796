"""Every service builds through its real build_app(), connects to NATS and answers EdgeX ping."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SERVICES


@pytest.mark.parametrize("service", SERVICES)
async def test_service_builds_connects_and_answers_ping(service: str, build_service) -> None:  # type: ignore[no-untyped-def]
    host = build_service(service)
    async with host:
        assert host.bus.connected
        for label, _port, app in host.apps:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
                r = await c.get("/api/v3/ping")
                assert r.status_code == 200 and r.json()["apiVersion"] == "v3"
                assert r.json()["serviceName"] == label
