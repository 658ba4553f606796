"""Supervisor: starts nats-server and every service as child processes, restarts crashed ones, stops cleanly.

Like a compose ``restart: unless-stopped`` policy: a child that exits while the suite is running is restarted
with exponential backoff (reset after it stays up for a minute). Stop order is the reverse of start order:
services get SIGTERM (they drain NATS), then nats-server; SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from edgewatch.suite.schedclass import (
    SchedAttrs,
    SchedClass,
    apply_in_child,
    autogroup_nice,
    renice_own_autogroup,
    sched_attrs,
)

__all__ = ["Child", "ProcSpec", "Supervisor"]

log = logging.getLogger("edgewatch.suite")

GRACE_S = 10.0
BACKOFF_MAX_S = 30.0
HEALTHY_RESET_S = 60.0


@dataclass(frozen=True)
class ProcSpec:
    """How to run one child."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ping_urls: tuple[str, ...] = ()
    tcp_port: int | None = None
    nice: int = 0  # added to the child's niceness: work that can wait yields the CPU to actuation under overload
    sched: SchedClass = ""  # scheduling class (schedclass.py): "background" (nice + SCHED_BATCH), "actuation"
    slice_ns: int = 0  # an actuation child's EEVDF slice (0: the kernel's)
    rt_priority: int = 0  # an actuation child's SCHED_FIFO priority where permitted (0: none; else the slice)
    rt_cpus: frozenset[int] | None = None  # CPUs a child that got SCHED_FIFO is kept to (None: those of the supervisor)
    cpus: frozenset[int] | None = None  # CPUs the child is confined to (None: those of the supervisor)
    # children of a higher rank stop first (Supervisor.stop): clients of other children (of their REST APIs or
    # devices) stop before what they call, so a shutdown does not look to them like an outage
    stop_rank: int = 0


@dataclass
class Child:
    """A supervised child process."""

    spec: ProcSpec
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff: float = 0.5
    log_file: IO[bytes] | None = None


class Supervisor:
    """Runs a list of ProcSpecs in order."""

    def __init__(self, specs: list[ProcSpec], logs_dir: Path, state_file: Path | None = None) -> None:
        self.children = [Child(s) for s in specs]
        self.logs_dir = logs_dir
        self.state_file = state_file
        self._stopping = False
        self._monitor: asyncio.Task[None] | None = None
        self.events: list[tuple[float, str, str]] = []

    def child(self, name: str) -> Child:
        """The child called ``name``."""
        for c in self.children:
            if c.spec.name == name:
                return c
        raise KeyError(name)

    async def _spawn(self, c: Child) -> None:
        if c.log_file is None:
            c.log_file = open(self.logs_dir / f"{c.spec.name}.log", "ab")  # noqa: ASYNC230 - tiny, once per child
        env = {**os.environ, **c.spec.env}
        c.proc = await asyncio.create_subprocess_exec(
            *c.spec.argv,
            env=env,
            stdout=c.log_file,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=functools.partial(_child_setup, c.spec),
        )
        _check_sched(c.spec, c.proc.pid)
        c.started_at = time.monotonic()
        self.events.append((time.time(), c.spec.name, f"started pid {c.proc.pid}"))
        log.info("started %s (pid %d)", c.spec.name, c.proc.pid)
        self._write_state()

    async def start(self, ready_timeout: float = 60.0) -> None:
        """Start children in order, each after the previous answers its readiness check."""
        for c in self.children:
            await self._spawn(c)
            if c.spec.tcp_port is not None:
                await self._wait(lambda c=c: _tcp_open(c.spec.tcp_port), ready_timeout, c)
        await asyncio.gather(*(self._wait_pings(c, ready_timeout) for c in self.children))
        self._monitor = asyncio.create_task(self._watch())

    async def _wait_pings(self, c: Child, timeout: float) -> None:
        for url in c.spec.ping_urls:
            await self._wait(lambda url=url: _http_ok(url), timeout, c)

    async def _wait(self, probe: object, timeout: float, c: Child) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if c.proc is not None and c.proc.returncode is not None:
                raise RuntimeError(f"{c.spec.name} exited with {c.proc.returncode}; see {self.logs_dir}")
            if await asyncio.to_thread(probe):  # type: ignore[arg-type]
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{c.spec.name} not ready after {timeout:g}s; see {self.logs_dir / c.spec.name}.log")

    async def _watch(self) -> None:
        """Restart children that exit while running."""
        while not self._stopping:
            for c in self.children:
                if self._stopping or c.proc is None or c.proc.returncode is None:
                    continue
                rc = c.proc.returncode
                up_for = time.monotonic() - c.started_at
                if up_for > HEALTHY_RESET_S:
                    c.backoff = 0.5
                self.events.append((time.time(), c.spec.name, f"exited rc={rc}; restart in {c.backoff:g}s"))
                log.warning("%s exited (rc=%s); restarting in %.1fs", c.spec.name, rc, c.backoff)
                c.proc = None
                await asyncio.sleep(c.backoff)
                c.backoff = min(c.backoff * 2, BACKOFF_MAX_S)
                if not self._stopping:
                    c.restarts += 1
                    await self._spawn(c)
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Stop everything (SIGTERM, then SIGKILL after the grace period): the services by ``stop_rank``, highest
        first and all of one rank at once, then the first child (nats-server) so services can drain."""
        self._stopping = True
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        services, first = self.children[1:], self.children[:1]
        for rank in sorted({c.spec.stop_rank for c in services}, reverse=True):
            await asyncio.gather(*(self._terminate(c) for c in services if c.spec.stop_rank == rank))
        await asyncio.gather(*(self._terminate(c) for c in first))
        for c in self.children:
            if c.log_file is not None:
                c.log_file.close()
                c.log_file = None
        if self.state_file is not None:
            with contextlib.suppress(OSError):
                self.state_file.unlink()

    async def _terminate(self, c: Child) -> None:
        p = c.proc
        if p is None or p.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(p.wait(), GRACE_S)
        except TimeoutError:
            log.warning("%s did not stop in %.0fs; killing", c.spec.name, GRACE_S)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            await p.wait()
        self.events.append((time.time(), c.spec.name, f"stopped rc={p.returncode}"))

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        state = {
            c.spec.name: {"pid": c.proc.pid if c.proc else None, "restarts": c.restarts, "ping": list(c.spec.ping_urls)}
            for c in self.children
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(self.state_file)


def _child_setup(spec: ProcSpec) -> None:
    """In the child before exec: die with the supervisor, then set the child's scheduling class (else lower its
    CPU priority by ``nice``)."""
    _die_with_parent()
    if spec.sched:
        apply_in_child(spec.sched, spec.nice, spec.slice_ns, spec.cpus, spec.rt_priority, spec.rt_cpus)
    else:
        if spec.cpus:
            apply_in_child("", 0, 0, spec.cpus)
        if spec.nice:
            with contextlib.suppress(OSError):
                os.nice(spec.nice)
    renice_own_autogroup()  # the child leads a session of its own: its autogroup takes its niceness


def _check_sched(spec: ProcSpec, pid: int) -> None:
    """Say when a child's scheduling class or CPU set did not take (the child runs, with the kernel's defaults)."""
    if spec.cpus and hasattr(os, "sched_getaffinity"):
        with contextlib.suppress(OSError):
            if frozenset(os.sched_getaffinity(pid)) != spec.cpus:
                log.warning("%s: CPU set %s refused; runs on any CPU", spec.name, sorted(spec.cpus))
    group = autogroup_nice(pid)  # every child: its niceness (the supervisor's plus its spec's) is its autogroup's
    with contextlib.suppress(OSError):
        own = os.getpriority(os.PRIO_PROCESS, pid)
        if group is not None and group != own:
            log.warning(
                "%s: its autogroup's niceness stays %d (its own is %d): its niceness counts only within its group",
                spec.name,
                group,
                own,
            )
    if not spec.sched:
        return
    got = sched_attrs(pid)
    if got is None:
        log.info("%s: scheduling class %s not available on this platform", spec.name, spec.sched)
    elif spec.sched == "background":
        if not got.batch:
            log.warning("%s: SCHED_BATCH refused; runs as a normal task", spec.name)
    elif not (spec.rt_priority and got.fifo):
        _check_actuation_fallback(spec, got)
    elif spec.rt_cpus and hasattr(os, "sched_getaffinity"):
        with contextlib.suppress(OSError):
            if frozenset(os.sched_getaffinity(pid)) != spec.rt_cpus:
                log.warning("%s: CPU set %s refused; runs SCHED_FIFO on any CPU", spec.name, sorted(spec.rt_cpus))


def _check_actuation_fallback(spec: ProcSpec, got: SchedAttrs) -> None:
    """An actuation child without its real-time priority: say so, and whether its slice took."""
    if spec.rt_priority:
        log.info(
            "%s: real-time priority %d refused (needs CAP_SYS_NICE or an RLIMIT_RTPRIO of it); runs with the slice",
            spec.name,
            spec.rt_priority,
        )
    if spec.slice_ns and got.slice_ns == 0:
        log.info("%s: this kernel has no EEVDF slices (Linux < 6.12); runs with the kernel's scheduling", spec.name)
    elif spec.slice_ns and got.slice_ns != spec.slice_ns:
        log.warning("%s: slice %d ns refused (kernel slice %d ns)", spec.name, spec.slice_ns, got.slice_ns)


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the supervisor dies, even by SIGKILL (Linux prctl)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: children outlive a killed supervisor, as with start_new_session alone


def _tcp_open(port: int | None) -> bool:
    import socket

    if port is None:
        return True
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as r:
            return bool(r.status == 200)
    except OSError:
        return False
