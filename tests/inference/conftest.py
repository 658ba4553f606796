"""Fixtures for inference tests: a running edgewatch-inference on the test nats-server, and vector helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.common.service.host import ServiceHost
from edgewatch.inference.app import build_app
from edgewatch.inference.config import InferenceSection, InferenceSettings
from tests.conftest import bus_settings
from tests.support.hosts import HostStarter
from tests.support.nats_server import NatsServer

NAMES = ["Vibration.rms", "Vibration.peak", "Temperature.mean"]


def vector(device: str, values: list[float], names: list[str] | None = None, seq: int = 0) -> bytes:
    """An encoded FeatureVector as the features service publishes it."""
    t0 = 1_700_000_000_000_000_000 + seq * 1_000_000_000
    fv = FeatureVector(
        device=device,
        profile="pump",
        resources=["Vibration", "Temperature"],
        window_start=t0,
        window_end=t0 + 1_000_000_000,
        sample_count=100,
        names=names or NAMES,
        values=np.asarray(values, dtype=np.float64),
        config_version="1",
        sequence=seq,
    )
    return encode_feature_vector(fv)


class InferenceService:
    """A started service plus an HTTP client on its app."""

    def __init__(self, host: ServiceHost, client: httpx.AsyncClient) -> None:
        self.host = host
        self.http = client


ServiceFactory = Callable[..., "AsyncIterator[InferenceService]"]


@pytest.fixture
def make_settings(nats_server: NatsServer, tmp_path: Path) -> Callable[..., InferenceSettings]:
    def make(**inference: object) -> InferenceSettings:
        return InferenceSettings(
            message_bus=bus_settings(nats_server),
            data_dir=str(tmp_path / "data"),
            inference=InferenceSection.model_validate(inference),
        )

    return make


@pytest.fixture
async def started() -> AsyncIterator[Callable[[InferenceSettings], object]]:
    """Start services built from settings; everything started is stopped at teardown."""
    starter = HostStarter()

    async def start(settings: InferenceSettings) -> InferenceService:
        return await starter.start(build_app(settings), "http://inference", InferenceService)

    yield start
    await starter.close()


@pytest.fixture
async def collector(bus: NatsBus) -> AsyncIterator[Callable[[str], object]]:
    """Subscribe and collect raw messages on a subject."""

    async def collect(subject: str) -> list:  # type: ignore[type-arg]
        got: list = []  # type: ignore[type-arg]

        async def on(msg):  # type: ignore[no-untyped-def]
            got.append(msg)

        await bus.nc.subscribe(subject, cb=on)
        await bus.nc.flush()
        await bus.nc.flush()  # the first PONG can overtake the SUB in nats-py (PING skips the pending queue)
        return got

    yield collect
