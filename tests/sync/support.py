"""Test support for sync: an in-process receiver on a real port, sync settings for a test nats-server."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from edgewatch.common.service.host import ServiceHost
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.receiver.app import build_app as build_receiver
from edgewatch.sync.receiver.config import ReceiverSettings
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until

__all__ = ["LiveReceiver", "sync_settings"]


def sync_settings(server: NatsServer, receiver_url: str, tmp: Path, **sync: Any) -> SyncSettings:
    """Settings of a sync service on ``server`` uploading to ``receiver_url`` with fast retries."""
    base: dict[str, Any] = {
        "gateway_id": "gw-test",
        "retry_initial": 0.05,
        "retry_max": 0.5,
        "status_interval": 0.2,
        "ack_wait": 5.0,
        "batch_linger": 0.01,
    }
    base.update(sync)
    return SyncSettings.model_validate(
        {
            "MessageBus": bus_settings(server).model_dump(by_alias=True),
            "Service": {"Port": free_port()},
            "Sync": base,
            "Sink": {"Url": receiver_url, "Timeout": 5.0},
            "DataDir": str(tmp / "sync"),
        }
    )


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
