"""Fixtures for core: the real core host on a real nats-server, with httpx clients for its three APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from edgewatch.common.service.host import ServiceHost
from edgewatch.core.app import build_app
from edgewatch.core.config import CoreSettings
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer


@dataclass
class Core:
    """A started core host and clients for core-metadata, core-data and core-command."""

    host: ServiceHost
    meta: httpx.AsyncClient
    data: httpx.AsyncClient
    command: httpx.AsyncClient


def core_settings(server: NatsServer, **over: Any) -> CoreSettings:
    """Core settings pointing at ``server`` (ports 0: tests call the apps through ASGI)."""
    base: dict[str, Any] = {
        "MessageBus": bus_settings(server).model_dump(by_alias=True),
        "Service": {"RequestTimeout": 1.0},
    }
    for k, v in over.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    return CoreSettings.model_validate(base)


def _client(host: ServiceHost, label: str) -> httpx.AsyncClient:
    app = next(a for lbl, _p, a in host.apps if lbl == label)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://core/api/v3")


async def start_core(settings: CoreSettings) -> tuple[ServiceHost, Core]:
    """Build and enter a core host."""
    host = build_app(settings)
    await host.__aenter__()
    labels = [lbl for lbl, _p, _a in host.apps]
    pick = {lbl: _client(host, lbl) for lbl in labels}
    dummy = pick["core-metadata"]
    return host, Core(host, pick["core-metadata"], pick.get("core-data", dummy), pick.get("core-command", dummy))


@pytest.fixture
async def core(nats_server: NatsServer) -> AsyncIterator[Core]:
    """core with default settings on the test nats-server."""
    _host, c = await start_core(core_settings(nats_server))
    try:
        yield c
    finally:
        await stop_core(c)


async def stop_core(c: Core) -> None:
    """Close the clients, then stop the host (every core test's teardown)."""
    for cl in (c.meta, c.data, c.command):
        await cl.aclose()
    await c.host.__aexit__(None, None, None)
