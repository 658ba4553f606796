"""The supervisor restarts crashed children (compose-like policy) and stops everything in reverse order."""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys
from pathlib import Path

import pytest

from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.schedclass import autogroup_nice, sched_attrs
from edgewatch.suite.supervisor import ProcSpec, Supervisor
from tests.support.waiting import wait_until

SLEEPER = [
    sys.executable,
    "-c",
    "import time, signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0));"
    " print('up', flush=True); time.sleep(3600)",
]


async def test_supervisor_restarts_a_child_killed_with_sigkill(tmp_path: Path) -> None:
    sup = Supervisor([ProcSpec("a", SLEEPER), ProcSpec("b", SLEEPER)], tmp_path, tmp_path / "state.json")
    await sup.start(ready_timeout=10)
    try:
        b = sup.child("b")
        assert b.proc is not None
        await wait_until(lambda: "up" in (tmp_path / "b.log").read_text(), message="first run up")
        first_pid = b.proc.pid
        os.kill(first_pid, signal.SIGKILL)
        await wait_until(
            lambda: b.proc is not None and b.proc.pid != first_pid and b.proc.returncode is None,
            timeout=10,
            message="b restarted",
        )
        assert b.restarts == 1 and sup.child("a").restarts == 0
        await wait_until(lambda: (tmp_path / "b.log").read_text().count("up") == 2, message="both runs logged")
    finally:
        await sup.stop()
    assert all(c.proc is None or c.proc.returncode is not None for c in sup.children)
    assert not (tmp_path / "state.json").exists()


async def test_supervisor_stops_services_before_the_first_child(tmp_path: Path) -> None:
    sup = Supervisor([ProcSpec("bus", SLEEPER), ProcSpec("svc1", SLEEPER), ProcSpec("svc2", SLEEPER)], tmp_path)
    await sup.start(ready_timeout=10)
    await sup.stop()
    stopped = [name for _, name, what in sup.events if what.startswith("stopped")]
    assert stopped[-1] == "bus" and set(stopped[:2]) == {"svc1", "svc2"}


async def test_supervisor_stops_clients_before_what_they_call(tmp_path: Path) -> None:
    specs = [
        ProcSpec("bus", SLEEPER),
        ProcSpec("core", SLEEPER),
        ProcSpec("ingest", SLEEPER, stop_rank=1),
        ProcSpec("device", SLEEPER),
        ProcSpec("rules", SLEEPER, stop_rank=1),
    ]
    sup = Supervisor(specs, tmp_path)
    await sup.start(ready_timeout=10)
    await sup.stop()
    stopped = [name for _, name, what in sup.events if what.startswith("stopped")]
    assert set(stopped[:2]) == {"ingest", "rules"} and set(stopped[2:4]) == {"core", "device"} and stopped[4] == "bus"


async def test_supervisor_kills_a_child_that_ignores_sigterm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import edgewatch.suite.supervisor as s

    monkeypatch.setattr(s, "GRACE_S", 0.5)
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring', flush=True); time.sleep(3600)",
    ]
    sup = Supervisor([ProcSpec("x", stubborn)], tmp_path)
    await sup.start(ready_timeout=10)
    proc = sup.child("x").proc
    assert proc is not None
    await wait_until(lambda: "ignoring" in (tmp_path / "x.log").read_text(), message="handler installed")
    await sup.stop()
    assert proc.returncode == -signal.SIGKILL


def test_ports_parse_overrides_and_rejects_unknown_names() -> None:
    p = Ports.parse("nats=14222, ingest=15900")
    assert (p.nats, p.ingest, p.core_data) == (14222, 15900, 59880)
    import pytest

    with pytest.raises(ValueError, match="unknown port name 'natz'"):
        Ports.parse("natz=1")


def test_suite_config_secrets_are_created_once_with_private_mode(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path)
    a = cfg.secret("api-token")
    assert a == cfg.secret("api-token") and len(a) >= 32
    assert (cfg.secret_path("api-token").stat().st_mode & 0o777) == 0o600


async def test_children_get_sigterm_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    import asyncio

    import psutil

    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from edgewatch.suite.supervisor import ProcSpec, Supervisor\n"
        f"SLEEPER = {SLEEPER!r}\n"
        "async def main():\n"
        f"    sup = Supervisor([ProcSpec('a', SLEEPER), ProcSpec('b', SLEEPER)], Path({str(tmp_path)!r}))\n"
        "    await sup.start(10)\n"
        "    print('ready', flush=True)\n"
        "    await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"ready"
    children = psutil.Process(proc.pid).children()
    assert len(children) == 2
    proc.kill()  # SIGKILL: the supervisor cannot clean up itself
    await proc.wait()
    await wait_until(
        lambda: all(not c.is_running() or c.status() == psutil.STATUS_ZOMBIE for c in children),
        timeout=10,
        message="orphaned children exited",
    )


async def test_a_child_runs_with_the_niceness_its_spec_adds(tmp_path: Path) -> None:
    sup = Supervisor([ProcSpec("fg", SLEEPER), ProcSpec("bg", SLEEPER, nice=5)], tmp_path)
    await sup.start(ready_timeout=10)
    try:
        fg, bg = sup.child("fg").proc, sup.child("bg").proc
        assert fg is not None and bg is not None
        assert os.getpriority(os.PRIO_PROCESS, bg.pid) == os.getpriority(os.PRIO_PROCESS, fg.pid) + 5
        _assert_autogroup_niceness_follows(fg.pid, bg.pid)
    finally:
        await sup.stop()


def _assert_autogroup_niceness_follows(*pids: int) -> None:
    """With autogroups each child (a session of its own) is a scheduling group of its own, whose niceness must be
    the child's: a process's niceness counts only within its group."""
    groups = [autogroup_nice(pid) for pid in pids]
    if any(g is None for g in groups):
        pytest.skip("this kernel has no autogroups (or /proc/<pid>/autogroup is not readable)")
    assert groups == [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids]


async def test_a_child_runs_on_the_cpus_its_spec_names(tmp_path: Path) -> None:
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        pytest.skip(f"needs two CPUs to confine a child to one; this process may use {available}")
    last = frozenset({available[-1]})
    specs = [ProcSpec("free", SLEEPER), ProcSpec("bg", SLEEPER, nice=5, sched="background", cpus=last)]
    specs.append(ProcSpec("plain-bg", SLEEPER, nice=5, cpus=last))  # niceness without a class keeps its nice
    sup = Supervisor(specs, tmp_path)
    await sup.start(ready_timeout=10)
    try:
        assert os.sched_getaffinity(_pid(sup, "free")) == set(available)
        assert os.sched_getaffinity(_pid(sup, "bg")) == last
        assert os.sched_getaffinity(_pid(sup, "plain-bg")) == last
        base = os.getpriority(os.PRIO_PROCESS, _pid(sup, "free"))
        assert os.getpriority(os.PRIO_PROCESS, _pid(sup, "plain-bg")) == base + 5
    finally:
        await sup.stop()


async def test_children_run_in_the_scheduling_class_their_spec_names(tmp_path: Path) -> None:
    specs = [
        ProcSpec("plain", SLEEPER),
        ProcSpec("bg", SLEEPER, nice=5, sched="background"),
        ProcSpec("act", SLEEPER, sched="actuation", slice_ns=200_000),
    ]
    sup = Supervisor(specs, tmp_path)
    await sup.start(ready_timeout=10)
    try:
        plain, bg, act = (sched_attrs(_pid(sup, n)) for n in ("plain", "bg", "act"))
        if plain is None or bg is None or act is None:
            pytest.skip("sched_getattr is not available on this platform")
        assert bg.batch and bg.nice == plain.nice + 5
        assert not act.batch and act.nice == plain.nice
        _assert_autogroup_niceness_follows(*(_pid(sup, n) for n in ("plain", "bg", "act")))
        if plain.slice_ns == 0:
            pytest.skip("this kernel has no EEVDF slices (Linux < 6.12)")
        assert act.slice_ns == 200_000 and plain.slice_ns != 200_000
    finally:
        await sup.stop()


THREADED = [
    sys.executable,
    "-c",
    "import threading, time, signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0));"
    " threading.Thread(target=time.sleep, args=(3600,), daemon=True).start(); print('up', flush=True);"
    " time.sleep(3600)",
]


def _threads(pid: int) -> list[int]:
    return [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]


def _may_set_fifo(priority: int) -> bool:
    """Whether this process may select SCHED_FIFO at ``priority``: CAP_SYS_NICE, or an RLIMIT_RTPRIO of it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:") and int(line.split()[1], 16) >> 23 & 1:  # CAP_SYS_NICE is capability 23
            return True
    return resource.getrlimit(resource.RLIMIT_RTPRIO)[0] >= priority


async def test_an_actuation_child_runs_sched_fifo_where_permitted_and_else_keeps_its_slice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    available = frozenset(os.sched_getaffinity(0))
    first = frozenset({min(available)})
    specs = [
        ProcSpec("plain", SLEEPER),
        ProcSpec("rt", THREADED, sched="actuation", slice_ns=200_000, rt_priority=7, rt_cpus=first),
        ProcSpec("out-of-range", SLEEPER, sched="actuation", slice_ns=200_000, rt_priority=100, rt_cpus=first),
    ]
    sup = Supervisor(specs, tmp_path)
    with caplog.at_level(logging.INFO, logger="edgewatch.suite"):
        await sup.start(ready_timeout=10)
    try:
        plain, rt, bad = (sched_attrs(_pid(sup, n)) for n in ("plain", "rt", "out-of-range"))
        if plain is None or rt is None or bad is None:
            pytest.skip("sched_getattr is not available on this platform")
        assert not plain.fifo
        if _may_set_fifo(7):
            pid = _pid(sup, "rt")

            def both_threads() -> list[int] | None:  # the thread the child starts after exec inherits the class
                tasks = _threads(pid)
                return tasks if len(tasks) >= 2 else None

            tasks = await wait_until(both_threads, message="the child's second thread")
            for task in tasks:
                got = sched_attrs(task)
                assert got is not None and got.fifo and got.rt_priority == 7
                assert os.sched_getaffinity(task) == first  # real-time, it keeps to its CPUs
            assert "rt: real-time priority" not in caplog.text
        else:
            assert not rt.fifo and "rt: real-time priority 7 refused" in caplog.text
        assert not bad.fifo and "out-of-range: real-time priority 100 refused" in caplog.text
        assert os.sched_getaffinity(_pid(sup, "out-of-range")) == available  # with the slice, on every CPU
        if plain.slice_ns:  # a kernel with EEVDF slices: the refused child kept its slice
            assert bad.slice_ns == 200_000
    finally:
        await sup.stop()


def _pid(sup: Supervisor, name: str) -> int:
    proc = sup.child(name).proc
    assert proc is not None
    return proc.pid


def test_free_ports_are_distinct_bindable_and_below_the_kernel_s_ephemeral_range() -> None:
    import socket

    from edgewatch.suite.layout import _ephemeral_low, free_port

    ports = list(Ports.free().as_dict().values())
    assert len(set(ports)) == len(ports)
    low = _ephemeral_low()
    if low is not None and low > 11_000:  # Linux: outgoing connections cannot take these before a service binds
        assert all(10_000 <= p < low for p in ports)
    taken = frozenset(ports)
    again = free_port(taken)
    assert again not in taken
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", again))
