"""``python -m edgewatch.common.service.group``: two real services in one process on a real nats-server, each with
its own environment (port, data directory), answering its own ping; log lines name the service they come from;
SIGTERM stops both."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx

from edgewatch.common.service.group import ENV_VAR
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until

MEMBERS = {"edgewatch.rules": "edgewatch-rules", "edgewatch.features": "edgewatch-features"}


async def test_two_services_share_a_process_each_with_its_own_settings_and_log_name(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    ports = {pkg: free_port() for pkg in MEMBERS}
    own = {pkg: {"SERVICE_PORT": str(port), "EDGEWATCH_DATA_DIR": str(tmp_path / pkg)} for pkg, port in ports.items()}
    env = {
        **os.environ,
        "MESSAGEBUS_HOST": "127.0.0.1",
        "MESSAGEBUS_PORT": str(nats_server.port),
        "WRITABLE_LOGLEVEL": "INFO",
        ENV_VAR: json.dumps(own),
    }
    log_path = tmp_path / "group.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "edgewatch.common.service.group", "--name", "test-group", *MEMBERS, env=env,
            stdout=log, stderr=log,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient(timeout=2) as c:

                async def pings() -> dict[str, str] | None:
                    out = {}
                    for pkg, port in ports.items():
                        try:
                            r = await c.get(f"http://127.0.0.1:{port}/api/v3/ping")
                        except httpx.HTTPError:
                            return None
                        out[pkg] = r.json()["serviceName"]
                    return out

                names = await wait_until(pings, timeout=60, interval=0.2, message="both services answer ping")
            assert names == MEMBERS  # each on its own SERVICE_PORT
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0, log_path.read_text()
    lines = [json.loads(x) for x in log_path.read_text().splitlines() if x.startswith("{")]
    by_logger = {(x["logger"].split(".")[1], x["service"]) for x in lines if x["logger"].startswith("edgewatch.")}
    # the shared library's lines (the bus connecting, ...) name the service whose work logged them
    assert {"edgewatch-rules", "edgewatch-features"} <= {s for pkg, s in by_logger if pkg == "common"}, by_logger
    assert ("rules", "edgewatch-rules") in by_logger, by_logger
    assert not {s for pkg, s in by_logger if pkg in ("rules", "features") and s != f"edgewatch-{pkg}"}, by_logger
