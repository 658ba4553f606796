"""Test support for the receiver: the real receiver app in-process on a real loopback port, and its fixture."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from edgewatch.common.service.host import ServiceHost
from edgewatch.receiver.app import build_app as build_receiver
from edgewatch.receiver.config import ReceiverSettings
from tests.support.ports import free_port
from tests.support.waiting import wait_until

__all__ = ["LiveReceiver", "receiver"]


class LiveReceiver:
    """The real receiver app served by uvicorn on a fixed loopback port; stop/start simulate cloud outages."""

    def __init__(self, tmp: Path, token: str = "", **receiver: Any) -> None:
        self.port = free_port()
        self.settings = ReceiverSettings.model_validate(
            {
                "Service": {"Port": self.port, "AuthToken": token},
                "Receiver": {"DbPath": str(tmp / "receiver" / "receiver.db"), **receiver},
                "DataDir": str(tmp / "receiver-data"),
            }
        )
        self.host: ServiceHost | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.host = build_receiver(self.settings)
        await self.host.__aenter__()
        cfg = uvicorn.Config(self.host.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        self._server = uvicorn.Server(cfg)
        self._task = asyncio.create_task(self._server._serve())
        server = self._server
        await wait_until(lambda: server.started, 10, message="receiver listening")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10)
        if self.host is not None:
            await self.host.__aexit__(None, None, None)
        self._server = self._task = self.host = None

    def client(self, token: str = "") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[LiveReceiver]:
    """A running receiver with its SQLite store under ``tmp_path``."""
    r = LiveReceiver(tmp_path)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()
