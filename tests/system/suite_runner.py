"""Run the real suite (``edgewatch up`` processes) on free ports in a temp data dir, for system tests."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg

from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.services import build_specs
from edgewatch.suite.supervisor import Supervisor
from tests.support.waiting import wait_until

__all__ = ["RunningSuite", "kill_and_wait_restart", "running_suite"]


class RunningSuite:
    """Handles on a running suite: config, supervisor, a NATS tap recording subjects, REST clients."""

    def __init__(self, cfg: SuiteConfig, sup: Supervisor, nc: Client) -> None:
        self.cfg = cfg
        self.sup = sup
        self.nc = nc
        self.seen: dict[str, list[Msg]] = defaultdict(list)
        token = cfg.secret("api-token") if cfg.auth else ""
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def tap(self, subject: str) -> None:
        """Record every message on ``subject`` (a wildcard) under that key."""

        async def cb(msg: Msg) -> None:
            self.seen[subject].append(msg)

        await self.nc.subscribe(subject, cb=cb)

    def count(self, subject: str) -> int:
        """Messages recorded for a tapped subject."""
        return len(self.seen[subject])

    def url(self, port_name: str, path: str) -> str:
        """http://127.0.0.1:<port>/api/v3<path>."""
        return f"http://127.0.0.1:{getattr(self.cfg.ports, port_name)}/api/v3{path}"

    async def get_json(self, port_name: str, path: str, token: str | None = None) -> Any:
        """GET a JSON document (raises on non-2xx)."""
        headers = {"Authorization": f"Bearer {token}"} if token else self.headers
        async with httpx.AsyncClient(timeout=5) as c:
            r = await c.get(self.url(port_name, path), headers=headers)
            r.raise_for_status()
            return r.json()

    def pids(self) -> dict[str, int | None]:
        """Current pid of every child."""
        return {c.spec.name: (c.proc.pid if c.proc else None) for c in self.sup.children}

    def logs(self, name: str) -> str:
        """A child's log text."""
        p = self.cfg.logs_dir / f"{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""


@asynccontextmanager
async def running_suite(
    data_dir: Path,
    *,
    demo: bool = True,
    demo_rise: float = 0.05,
    mqtt: bool = False,
    without: tuple[str, ...] = (),
) -> AsyncIterator[RunningSuite]:
    """Start nats-server + every service (+ the demo pump) as real processes; stop them all afterwards.

    ``without`` names processes (``ProcSpec.name``, e.g. ``opcua-sim``, ``edgewatch-receiver``) a test does not need.
    """
    cfg = SuiteConfig(data_dir, Ports.free(), demo=demo, auth=True, demo_rise=demo_rise, mqtt=mqtt)
    (cfg.run_dir / "ports.json").write_text(json.dumps(cfg.ports.as_dict()))
    specs = [s for s in build_specs(cfg) if s.name not in without]
    sup = Supervisor(specs, cfg.logs_dir, cfg.run_dir / "state.json")
    await sup.start(ready_timeout=90)
    nc: Client | None = None
    try:
        nc = await nats.connect(
            f"nats://127.0.0.1:{cfg.ports.nats}",
            user=cfg.nats_credentials("admin")[0],
            password=cfg.nats_credentials("admin")[1],
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
        )
        yield RunningSuite(cfg, sup, nc)
    finally:
        if nc is not None:
            await nc.close()
        await sup.stop()


async def kill_and_wait_restart(s: RunningSuite, name: str, port_name: str) -> None:
    """kill -9 the child ``name`` (also a stopped one) and wait until the supervisor has restarted it and its REST
    port ``port_name`` answers ping."""
    child = s.sup.child(name)
    assert child.proc is not None
    pid, restarts = child.proc.pid, child.restarts
    child.proc.kill()

    async def back() -> bool:
        if child.restarts != restarts + 1 or child.proc is None or child.proc.pid == pid:
            return False
        try:
            async with httpx.AsyncClient(timeout=2) as c:
                return (await c.get(s.url(port_name, "/ping"))).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_until(back, timeout=60, interval=0.2, message=f"{name} restarted by the supervisor")
