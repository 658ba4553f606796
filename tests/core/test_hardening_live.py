"""Hostile uploads against a running core process (real HTTP, real nats-server): core-command keeps forwarding
commands and every ping is answered while alias bombs and 30 MB profile uploads are refused.

Core runs as ``python -m edgewatch.core``: all three APIs in one process (the default), and split the way
``edgewatch up`` runs it (core-command in a process of its own). The test asserts outcomes and interleaving
(probes completed while an attack was in flight), not wall-clock limits; bench/hardening.py measures the times.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request, edgex_respond
from edgewatch.common.contracts import topics
from tests.core.helpers import device_req, profile_req, service_req
from tests.support.hostile import alias_bomb, large_profile
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.sync.procs import ServiceProc

MB = 1024 * 1024
ROUNDS = 25
ATTACKS = 5
KINDS = ("alias bomb", "30 MB profile")


@dataclass
class Span:
    """One request: what, how it ended, when it started and ended (monotonic)."""

    kind: str
    ok: bool
    detail: str
    t0: float
    t1: float


@dataclass
class CoreProcs:
    """Ports of the running core API(s)."""

    meta: int
    data: int
    command: int


def _env(nats: NatsServer, data_dir: Path, ports: CoreProcs, apis: str, port: int) -> dict[str, str]:
    return {
        "EDGEWATCH_DATA_DIR": str(data_dir),
        "MESSAGEBUS_HOST": "127.0.0.1",
        "MESSAGEBUS_PORT": str(nats.port),
        "SERVICE_PORT": str(port),
        "SERVICE_REQUESTTIMEOUT": "5",
        "CORE_METADATAPORT": str(ports.meta),
        "CORE_DATAPORT": str(ports.data),
        "CORE_COMMANDPORT": str(ports.command),
        "CORE_APIS": apis,
        "WRITABLE_LOGLEVEL": "WARN",
    }


@pytest.fixture(params=["one-process", "command-apart"])
def running_core(request: pytest.FixtureRequest, nats_server: NatsServer, tmp_path: Path) -> Iterator[CoreProcs]:
    """core as real processes: all APIs in one, or core-command in its own process as ``edgewatch up`` runs it."""
    ports = CoreProcs(free_port(), free_port(), free_port())
    layout = (
        [("[metadata, data, command]", ports.meta)]
        if request.param == "one-process"
        else [("[metadata, data]", ports.meta), ("[command]", ports.command)]
    )
    procs = []
    try:
        for i, (apis, port) in enumerate(layout):
            (tmp_path / f"log{i}").mkdir()
            proc = ServiceProc(
                "edgewatch.core", _env(nats_server, tmp_path / "data", ports, apis, port), port, tmp_path / f"log{i}"
            )
            proc.start(timeout=60)
            procs.append(proc)
        yield ports
    finally:
        for proc in reversed(procs):
            proc.stop()


async def _device_service(bus: NatsBus, received: list[bytes]) -> None:
    """A device service answering SET requests on the real bus."""

    async def on(msg: Msg) -> None:
        env = decode_envelope(msg)
        received.append(env.payload)
        await edgex_respond(bus, env, responder="svc")

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=on)
    await bus.nc.flush()


async def _timed(kind: str, spans: list[Span], call: object) -> None:
    t0 = time.monotonic()
    try:
        ok, detail = await call  # type: ignore[misc]
    except Exception as e:  # a probe that fails is recorded, not raised: the assertions list every failure
        ok, detail = False, f"{type(e).__name__}: {e}"
    spans.append(Span(kind, ok, detail, t0, time.monotonic()))


async def _probe_round(c: httpx.AsyncClient, bus: NatsBus, ports: CoreProcs, n: int, spans: list[Span]) -> None:
    async def ping(port: int) -> tuple[bool, str]:
        r = await c.get(f"http://127.0.0.1:{port}/api/v3/ping")
        return r.status_code == 200, str(r.status_code)

    async def rest_command() -> tuple[bool, str]:
        r = await c.put(f"http://127.0.0.1:{ports.command}/api/v3/device/name/d1/sw", json={"sw": str(n % 2 == 0)})
        return r.status_code == 200, r.text

    async def bus_command() -> tuple[bool, str]:
        env = new_envelope(json.dumps({"sw": "true"}).encode())
        subject = topics.command_request("d1", "sw", "set")
        reply = await edgex_request(bus, subject, env, responder="core-command", timeout=30)
        return reply.error_code == 0, reply.error_text()

    await _timed("ping core-metadata", spans, ping(ports.meta))
    await _timed("ping core-command", spans, ping(ports.command))
    await _timed("command over REST", spans, rest_command())
    await _timed("command over the bus", spans, bus_command())


async def _attack(c: httpx.AsyncClient, ports: CoreProcs, stop: asyncio.Event, spans: list[Span]) -> None:
    url = f"http://127.0.0.1:{ports.meta}/api/v3/deviceprofile/uploadfile"
    bomb = alias_bomb(pad=12).encode()
    huge = large_profile(30 * MB)

    async def upload(doc: bytes, status: int, limit: str) -> tuple[bool, str]:
        r = await c.post(url, files={"file": ("p.yaml", doc, "application/x-yaml")})
        return r.status_code == status and limit in r.json()["message"], f"{r.status_code} {r.text[:200]}"

    while not stop.is_set():
        await _timed("alias bomb", spans, upload(bomb, 400, "MaxYamlAliasNodes"))
        await _timed("30 MB profile", spans, upload(huge, 413, "MaxRequestSize"))


async def test_commands_and_pings_succeed_throughout_alias_bombs_and_30mb_uploads(
    running_core: CoreProcs, bus: NatsBus
) -> None:
    ports = running_core
    received: list[bytes] = []
    await _device_service(bus, received)
    async with httpx.AsyncClient(timeout=120) as c:
        meta = f"http://127.0.0.1:{ports.meta}/api/v3"
        assert (await c.post(f"{meta}/deviceservice", json=[service_req("svc")])).status_code == 207
        assert (await c.post(f"{meta}/deviceprofile", json=[profile_req("P")])).status_code == 207
        assert (await c.post(f"{meta}/device?bypassValidation=true", json=[device_req("d1")])).status_code == 207
        probes: list[Span] = []
        attacks: list[Span] = []
        stop = asyncio.Event()
        attacker = asyncio.create_task(_attack(c, ports, stop, attacks))
        try:
            n = 0
            while n < ROUNDS or min(sum(a.kind == k for a in attacks) for k in KINDS) < ATTACKS:
                await _probe_round(c, bus, ports, n, probes)
                n += 1
        finally:
            stop.set()
            await attacker

    failed_probes = [p for p in probes if not p.ok]
    failed_attacks = [a for a in attacks if not a.ok]
    assert not failed_probes, failed_probes[:5]
    assert not failed_attacks, failed_attacks[:5]
    assert len(probes) == 4 * n and len(received) == 2 * n
    for kind in KINDS:
        windows = [a for a in attacks if a.kind == kind]
        assert windows, kind
        inside = [p for p in probes if any(a.t0 < p.t0 and p.t1 < a.t1 for a in windows)]
        assert inside, f"no probe completed while a {kind} was in flight"
