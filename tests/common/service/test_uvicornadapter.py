"""service.uvicornadapter: serving keeps uvicorn's lifespan, sockets and graceful stop without touching signals,
and its import-time check fails loudly when uvicorn drops a piece it runs."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from edgewatch.common.service.uvicornadapter import TESTED_VERSION, check_hooks, serve


def _app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.3)
        return {"slow": "done"}

    return app


async def test_serve_runs_lifespan_serves_on_given_sockets_and_stops_gracefully_leaving_signals_alone() -> None:
    events: list[str] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(events), lifespan="on", log_config=None, timeout_graceful_shutdown=3))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    task = asyncio.create_task(serve(server, sockets=[sock]))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.01)
            assert server.started and events == ["startup"]
            assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
            assert (await client.get("/ping")).json() == {"pong": "yes"}
            slow = asyncio.create_task(client.get("/slow"))
            await asyncio.sleep(0.1)
            server.should_exit = True  # graceful: the request in flight still completes
            assert (await slow).json() == {"slow": "done"}
        await asyncio.wait_for(task, 10)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
    assert events == ["startup", "shutdown"]
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers


def test_the_installed_uvicorn_is_the_tested_series_and_has_every_piece() -> None:
    assert version("uvicorn").rsplit(".", 1)[0] == TESTED_VERSION.rsplit(".", 1)[0]
    check_hooks()  # also ran at import


class _NoMainLoop(uvicorn.Server):  # type: ignore[misc]
    main_loop = None


class _StartupWithoutSockets(uvicorn.Server):  # type: ignore[misc]
    async def startup(self) -> None:  # type: ignore[override]
        pass


class _UnflaggedServer(uvicorn.Server):  # type: ignore[misc]
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        del self.should_exit


class _ConfigWithoutLifespanClass(uvicorn.Config):  # type: ignore[misc]
    def load(self) -> None:
        super().load()
        del self.lifespan_class


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"server_cls": _NoMainLoop}, "_NoMainLoop.main_loop() is not a coroutine function"),
        ({"server_cls": _StartupWithoutSockets}, "_StartupWithoutSockets.startup(sockets=...)"),
        ({"server_cls": _UnflaggedServer}, "_UnflaggedServer().should_exit is not a False flag"),
        ({"config_cls": _ConfigWithoutLifespanClass}, "_ConfigWithoutLifespanClass.load() sets no lifespan_class"),
    ],
)
def test_check_fails_loudly_naming_the_version_and_the_missing_piece(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ImportError) as e:
        check_hooks(**kwargs)
    assert needle in str(e.value)
    assert f"uvicorn {version('uvicorn')} (edgewatch is tested with {TESTED_VERSION})" in str(e.value)
