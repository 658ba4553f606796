"""Shared fixtures: a real nats-server per test, and a connected NatsBus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.service.metrics import ServiceMetrics
from tests.support.nats_server import NatsServer
from tests.support.shared import shared_root, under_ci
from tests.support.taskdump import watch


def pytest_configure(config: pytest.Config) -> None:
    """Under CI a missing ../shared fails the run at once instead of skipping its tests."""
    if under_ci() and not shared_root().is_dir():
        raise pytest.UsageError(f"CI is set but the shared folder {shared_root()} is absent (EDGEWATCH_SHARED)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """A hung async test prints its asyncio tasks' stacks before pytest-timeout fails it (tests/support/taskdump)."""
    with watch(item):
        return (yield)


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


SERVICES = ("core", "ingest", "features", "inference", "rules", "sync", "console")


def service_settings(service: str, server: NatsServer, data_dir: str, **sections: object):  # type: ignore[no-untyped-def]
    """Settings of ``edgewatch.<service>`` pointed at a test nats-server, free ports and a temp data dir."""
    import importlib

    from tests.support.ports import free_port

    config = importlib.import_module(f"edgewatch.{service}.config")
    cls = next(
        v
        for k, v in vars(config).items()
        if k.endswith("Settings") and isinstance(v, type) and v.__module__ == config.__name__
    )
    data = {
        "MessageBus": bus_settings(server).model_dump(by_alias=True),
        "DataDir": data_dir,
        "Service": {"Port": free_port()},
    }
    data.update(sections)  # type: ignore[arg-type]
    return cls.model_validate(data)


@pytest.fixture
def build_service(nats_server: NatsServer, tmp_path):  # type: ignore[no-untyped-def]
    """Factory: build a service's real host with ``build_app(settings)`` (not started; use ``async with``)."""
    import importlib

    def make(service: str, **sections: object):  # type: ignore[no-untyped-def]
        app = importlib.import_module(f"edgewatch.{service}.app")
        return app.build_app(service_settings(service, nats_server, str(tmp_path / service), **sections))

    return make
