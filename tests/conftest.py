"""Shared fixtures: a real nats-server per test, and a connected NatsBus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import MessageBusSection
from tests.support.nats_server import NatsServer


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A real nats-server with JetStream on a free loopback port (function scope)."""
    server = NatsServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def bus_settings(server: NatsServer) -> MessageBusSection:
    """MessageBus settings pointing at a test server."""
    return MessageBusSection(servers=[server.url], reconnect_wait=0.1, connect_timeout=1.0)


@pytest.fixture
async def bus(nats_server: NatsServer) -> AsyncIterator[NatsBus]:
    """A connected NatsBus on the test server."""
    b = NatsBus(bus_settings(nats_server), "test-client", ServiceMetrics("test-client"))
    await b.connect()
    try:
        yield b
    finally:
        await b.drain()
