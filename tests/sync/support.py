"""Test support for sync: sync settings for a test nats-server (the receiver it uploads to: tests.receiver.support)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgewatch.sync.config import SyncSettings
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port

__all__ = ["sync_settings"]


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
