"""`edgewatch up` as a real process: every port answers ping, SIGTERM stops everything, state survives a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.services import REST_PORTS, ping_url
from tests.support.waiting import wait_until

PROFILE = """
name: cli-test-profile
manufacturer: edgewatch
model: t1
deviceResources:
  - name: Level
    properties: {valueType: Float32, readWrite: R}
"""


async def _up(data_dir: Path, ports: Ports) -> asyncio.subprocess.Process:
    spec = ",".join(f"{k}={v}" for k, v in ports.as_dict().items())
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edgewatch.suite",
        "up",
        "--data-dir",
        str(data_dir),
        "--ports",
        spec,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _wait_up(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    out = b""
    while b"edgewatch is up" not in out:
        line = await asyncio.wait_for(proc.stdout.readline(), 90)
        if not line:
            raise AssertionError(f"edgewatch up exited early: {out.decode(errors='replace')}")
        out += line
    return out.decode()


async def _stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    assert proc.stdout is not None
    await asyncio.wait_for(proc.stdout.read(), 60)
    return await asyncio.wait_for(proc.wait(), 60)


@pytest.mark.timeout(300)
async def test_up_answers_ping_everywhere_stops_on_sigterm_and_keeps_state(tmp_path: Path) -> None:
    ports = Ports.free()
    data = tmp_path / "data"
    proc = await _up(data, ports)
    try:
        await _wait_up(proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 6  # nats-server, core, the receiver, the background group (4 services), ingest, rules
        token = SuiteConfig(data, ports).secret("api-token")
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=5) as c:
            for name in REST_PORTS:
                r = await c.get(ping_url(getattr(ports, name)))
                assert r.status_code == 200, name
            r = await c.get(f"http://127.0.0.1:{ports.nats_monitor}/varz")
            assert r.json()["jetstream"]["config"]["store_dir"].startswith(str(data))
            # REST auth is on: no token, no metadata
            assert (await c.get(f"http://127.0.0.1:{ports.core_metadata}/api/v3/deviceprofile/all")).status_code == 401
            r = await c.post(
                f"http://127.0.0.1:{ports.core_metadata}/api/v3/deviceprofile/uploadfile",
                files={"file": ("p.yaml", PROFILE.encode())},
                headers=auth,
            )
            assert r.status_code == 201, r.text
    finally:
        rc = await _stop(proc)
    assert rc == 0
    await wait_until(
        lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in children),
        timeout=30,
        message="every child process exited",
    )

    proc = await _up(data, ports)  # same data dir: JetStream store and metadata survive
    try:
        await _wait_up(proc)
        async with httpx.AsyncClient(timeout=5) as c:
            r = await c.get(
                f"http://127.0.0.1:{ports.core_metadata}/api/v3/deviceprofile/name/cli-test-profile", headers=auth
            )
            assert r.status_code == 200 and r.json()["profile"]["model"] == "t1"
        await _assert_status_shows_windowed_rates_and_hops(data)
    finally:
        assert await _stop(proc) == 0


async def _assert_status_shows_windowed_rates_and_hops(data: Path) -> None:
    """`edgewatch status --json`: over at least 10 s, every service up, each hop listed where it is timed."""
    status = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edgewatch.suite",
        "status",
        "--data-dir",
        str(data),
        "--json",
        "--window",
        "10",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(status.communicate(), 60)
    assert status.returncode == 0, out.decode(errors="replace")
    doc = json.loads(out)
    assert doc["window_s"] >= 10
    services = doc["services"]
    assert all(s["up"] for s in services.values())
    assert "command_forward_answer" in services["core-command"]["hops"]
    assert {"rules_sample_decision", "rules_decision_command"} <= set(services["rules"]["hops"])
    assert "sync_store_ack" in services["sync"]["hops"]
    assert (data / "run" / "scrapes.json").exists()  # `up` and `status` keep the scrapes a window spans


def test_data_dir_defaults_to_env_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from edgewatch.suite.layout import resolve_data_dir

    monkeypatch.setenv("EDGEWATCH_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None) == (tmp_path / "env").resolve()
    assert resolve_data_dir(str(tmp_path / "cli")) == (tmp_path / "cli").resolve()
    monkeypatch.delenv("EDGEWATCH_DATA_DIR")
    assert resolve_data_dir(None) == Path(os.path.expanduser("~/.local/share/edgewatch")).resolve()
