"""Fixtures for rules tests: a running edgewatch-rules, a core-command stand-in, score publishing helpers."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import MessageEnvelope, decode_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.alert import Alert, decode_alert
from edgewatch.common.contracts.score import Score, encode_score
from edgewatch.common.service.host import ServiceHost
from edgewatch.rules.app import build_app
from edgewatch.rules.config import ActuationSection, RulesSection, RulesSettings
from tests.conftest import bus_settings
from tests.support.hosts import HostStarter
from tests.support.nats_server import NatsServer

PUMP_RULE: dict[str, Any] = {
    "name": "pump-high",
    "source": {"kind": "score", "device": "pump-1"},
    "condition": {"comparator": ">", "threshold": 8.0, "clearThreshold": 4.0},
    "debounce": {"count": 2},
    "severity": "critical",
    "actions": [{"device": "pump-1", "command": "PumpStop", "settings": {"PumpStop": "true"}}],
}


def score_bytes(device: str, value: float, seq: int, correlation_id: str = "") -> bytes:
    t = 1_700_000_000_000_000_000 + seq * 1_000_000_000
    return encode_score(
        Score(
            device=device,
            model_name="auto.x",
            model_version="1",
            score=value,
            threshold=8.0,
            is_anomaly=value > 8.0,
            window_start=t - 1_000_000_000,
            window_end=t,
            origin=time.time_ns(),
            sequence=seq,
            correlation_id=correlation_id,
        )
    )


async def feed(bus: NatsBus, device: str, values: list[float], start: int = 0, *, traced: bool = False) -> None:
    """Publish one Score per value (sequence numbers from ``start``; ``traced``: correlation id ``cid-<seq>``)."""
    for i, v in enumerate(values):
        cid = f"cid-{start + i}" if traced else ""
        await bus.publish(topics.score(device), score_bytes(device, v, start + i, cid))


@dataclass
class CoreCommand:
    """A core-command stand-in on ``edgex.core.command.request.>``: records requests, answers per a script."""

    bus: NatsBus
    requests: list[tuple[str, MessageEnvelope]] = field(default_factory=list)
    script: list[str | None] = field(default_factory=list)  # per request: None = ok, "err" = errorCode 1, "drop"

    async def start(self) -> None:
        async def on(msg: Any) -> None:
            env = decode_envelope(msg)
            self.requests.append((msg.subject, env))
            action = self.script.pop(0) if self.script else None
            if action == "drop":
                return
            await edgex_respond(self.bus, env, responder="core-command", error=action)

        await self.bus.nc.subscribe(topics.command_request_all(), cb=on)
        await self.bus.nc.flush()
        await self.bus.nc.flush()  # the first PONG can overtake the SUB in nats-py

    def settings(self, i: int) -> dict[str, str]:
        return json.loads(self.requests[i][1].payload)


@pytest.fixture
async def core_command(bus: NatsBus) -> CoreCommand:
    cc = CoreCommand(bus)
    await cc.start()
    return cc


@pytest.fixture
def make_settings(nats_server: NatsServer, tmp_path: Path) -> Callable[..., RulesSettings]:
    def make(files: list[str] | None = None, **actuation: Any) -> RulesSettings:
        act = {"command_timeout": 0.5, "attempts": 3, "backoff_initial": 0.05, "backoff_max": 0.2, **actuation}
        return RulesSettings(
            message_bus=bus_settings(nats_server),
            data_dir=str(tmp_path / "data"),
            rules=RulesSection(files=files or [], stale_check_interval=0.1),
            actuation=ActuationSection.model_validate(act),
        )

    return make


class RulesService:
    def __init__(self, host: ServiceHost, client: httpx.AsyncClient) -> None:
        self.host = host
        self.http = client


@pytest.fixture
async def started() -> AsyncIterator[Callable[[RulesSettings], Any]]:
    """Start services built from settings; everything started is stopped at teardown."""
    starter = HostStarter()

    async def start(settings: RulesSettings) -> RulesService:
        return await starter.start(build_app(settings), "http://rules", RulesService)

    yield start
    await starter.close()


@pytest.fixture
async def alerts(bus: NatsBus) -> list[Alert]:
    got: list[Alert] = []

    async def on(msg: Any) -> None:
        got.append(decode_alert(msg.data))

    await bus.nc.subscribe(topics.alert_all(), cb=on)
    await bus.nc.flush()
    await bus.nc.flush()  # the first PONG can overtake the SUB in nats-py
    return got
