"""Fixtures for features tests: a running edgewatch-features on the test nats-server, and event helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Event, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, CONTENT_JSON, encode_add_event
from edgewatch.common.service.host import ServiceHost
from edgewatch.features.app import build_app
from edgewatch.features.config import FeaturesSettings
from edgewatch.features.readings import MEDIA_F32LE
from tests.conftest import bus_settings
from tests.support.hosts import HostStarter
from tests.support.nats_server import NatsServer

T0 = 1_700_000_000_000_000_000  # a whole multiple of 5 s, so default time windows start on it
SEC = 1_000_000_000


def scalar_event(device: str, origin: int, values: dict[str, float], profile: str = "pump") -> Event:
    """One event with a Float64 reading per resource, all at ``origin``."""
    readings = [Reading.simple(device, profile, r, "Float64", v, origin=origin) for r, v in values.items()]
    return new_event(device, profile, "poll", readings, origin=origin)


def block_event(device: str, resource: str, origin: int, samples: np.ndarray, fs: float | None) -> Event:
    """One event with a Binary f32le block reading (sample rate in the reading tags when given)."""
    tags = {"sampleRateHz": fs} if fs is not None else {}
    data = np.asarray(samples, dtype="<f4").tobytes()
    reading = Reading.binary(device, "accel", resource, data, MEDIA_F32LE, origin=origin, tags=tags)
    return new_event(device, "accel", resource, [reading], origin=origin)


async def publish_event(bus: NatsBus, event: Event, *, cbor: bool = False) -> None:
    """Publish as a device service does: EdgeX ``nats`` format, AddEventRequest JSON (or CBOR)."""
    ct = CONTENT_CBOR if cbor else CONTENT_JSON
    body = encode_add_event(AddEventRequest.of(event), ct)
    payload, headers = encode_envelope(new_envelope(body, content_type=ct), "nats")
    subject = topics.device_event("edgewatch-ingest", event.profile_name, event.device_name, event.source_name)
    await bus.publish(subject, payload, headers)


class FeaturesService:
    """A started service plus an HTTP client on its app."""

    def __init__(self, host: ServiceHost, client: httpx.AsyncClient) -> None:
        self.host = host
        self.http = client


@pytest.fixture
def make_settings(nats_server: NatsServer, tmp_path: Path) -> Callable[..., FeaturesSettings]:
    def make(**features: Any) -> FeaturesSettings:
        return FeaturesSettings.model_validate(
            {
                "MessageBus": bus_settings(nats_server).model_dump(),
                "DataDir": str(tmp_path / "data"),
                "Features": features,
            }
        )

    return make


@pytest.fixture
async def started() -> AsyncIterator[Callable[[FeaturesSettings], Any]]:
    """Start services built from settings; everything started is stopped at teardown."""
    starter = HostStarter()

    async def start(settings: FeaturesSettings) -> FeaturesService:
        return await starter.start(build_app(settings), "http://features", FeaturesService)

    yield start
    await starter.close()


@pytest.fixture
async def collector(bus: NatsBus) -> Callable[[str], Any]:
    """Subscribe to a subject and collect its messages in a list."""

    async def collect(subject: str) -> list[Msg]:
        got: list[Msg] = []

        async def on(msg: Msg) -> None:
            got.append(msg)

        await bus.nc.subscribe(subject, cb=on)
        await bus.nc.flush()
        return got

    return collect
