"""TLS with the certificates of ``edgewatch secrets init --tls``: a service's bus connection to a TLS nats-server
(``MessageBus.TlsCaFile``) and a service's REST API over HTTPS (``Service.TlsCertFile`` / ``TlsKeyFile``)."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.suite.secretsdir import AUTH_CONF, CA_CERT, TLS_CERT, TLS_KEY, init_secrets
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tls-secrets")
    init_secrets(d, tls=True)
    return d


@pytest.fixture(scope="module")
def tls_nats(tls_dir: Path) -> Iterator[NatsServer]:
    tls = f'tls {{ cert_file: "{tls_dir / TLS_CERT}", key_file: "{tls_dir / TLS_KEY}" }}'
    server = NatsServer(extra_config=(tls_dir / AUTH_CONF).read_text() + tls)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


async def test_a_service_connects_to_nats_over_tls_with_its_user(tls_nats: NatsServer, tls_dir: Path) -> None:
    settings = MessageBusSection(
        servers=[tls_nats.url],
        user="features",
        password_file=str(tls_dir / "nats-features.password"),
        tls_ca_file=str(tls_dir / CA_CERT),
        connect_timeout=5,
    )
    bus = NatsBus(settings, "edgewatch-features", ServiceMetrics("edgewatch-features"))
    await bus.connect()
    try:
        assert bus.connected
        info = bus.nc._server_info  # the server's INFO: TLS required, so this connection is TLS
        assert info.get("tls_required") is True, info
    finally:
        await bus.drain()


def test_a_service_serves_https_with_the_generated_certificate(tls_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SERVICE_PORT": str(port),
        "SERVICE_TLSCERTFILE": str(tls_dir / TLS_CERT),
        "SERVICE_TLSKEYFILE": str(tls_dir / TLS_KEY),
        "EDGEWATCH_DATA_DIR": str(tmp_path),
    }
    log = (tmp_path / "receiver.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "edgewatch.receiver"], env=env, stdout=log, stderr=log)
    ca = ssl.create_default_context(cafile=str(tls_dir / CA_CERT))
    try:

        def ping() -> bool:
            try:
                r = httpx.get(f"https://localhost:{port}/api/v3/ping", verify=ca, timeout=2)
            except httpx.HTTPError:
                return False
            return r.status_code == 200

        asyncio.run(wait_until(ping, 60, message="HTTPS ping"))
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"https://localhost:{port}/api/v3/ping", timeout=2)  # an unknown CA is refused
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
