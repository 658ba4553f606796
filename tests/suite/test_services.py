"""The process table of ``edgewatch up``: core serves core-metadata, core-data and core-command on their EdgeX
ports (rules sends its SETs straight to the device service, so core-command is off the actuation path); core, sync
and the console run in one process (the background group), features and inference in another (the analytics),
unless told apart; the work that can wait runs nicer than the analytics, which run nicer than the actuation path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edgewatch.common.service import group, malloctrim
from edgewatch.suite import services
from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.services import GROUP_ENV, MALLOC_TRIM_ENV, REST_PORTS, build_specs


def _core_env(cfg: SuiteConfig) -> dict[str, str]:
    own: dict[str, dict[str, str]] = json.loads(
        {s.name: s for s in build_specs(cfg)}["edgewatch-background"].env[GROUP_ENV]
    )
    return own["edgewatch.core"]


def test_one_core_serves_core_metadata_core_data_and_core_command(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path, ports=Ports.free())
    specs = {s.name: s for s in build_specs(cfg)}
    assert not any("command" in name for name in specs)
    core = _core_env(cfg)
    assert core["CORE_APIS"] == "[metadata, data, command]"
    assert core["CORE_COMMANDPORT"] == str(cfg.ports.core_command)
    p = cfg.ports
    assert {u.split("/")[2] for u in specs["edgewatch-background"].ping_urls} >= {
        f"127.0.0.1:{n}" for n in (p.core_data, p.core_metadata, p.core_command)
    }
    apart = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), group_background=False))}
    assert apart["edgewatch-core"].argv[-1] == "edgewatch.core"
    assert apart["edgewatch-core"].env["CORE_APIS"] == "[metadata, data, command]"
    assert {"core_data", "core_metadata", "core_command"} <= set(REST_PORTS)


@pytest.mark.parametrize(
    ("name", "members"),
    [("edgewatch-background", ("core", "sync", "console")), ("edgewatch-analytics", ("features", "inference"))],
)
def test_grouped_services_run_in_one_process_each_with_its_own_environment(
    tmp_path: Path, name: str, members: tuple[str, ...]
) -> None:
    cfg = SuiteConfig(tmp_path, ports=Ports.free())
    specs = {s.name: s for s in build_specs(cfg)}
    assert not {f"edgewatch-{m}" for m in members} & set(specs)
    proc = specs[name]
    assert proc.argv[2:] == ["edgewatch.common.service.group", "--name", name] + [f"edgewatch.{m}" for m in members]
    p = cfg.ports
    ports = [f"127.0.0.1:{getattr(p, m)}" for m in members if m != "core"]
    assert [u.split("/")[2] for u in proc.ping_urls][-len(ports) :] == ports
    own = json.loads(proc.env[GROUP_ENV])
    assert set(own) == {f"edgewatch.{m}" for m in members}
    users = {m: own[f"edgewatch.{m}"]["MESSAGEBUS_USER"] for m in members}
    assert users == {m: "core-all" if m == "core" else m for m in members}
    if "sync" in members:
        assert own["edgewatch.sync"]["SINK_URL"] == f"http://127.0.0.1:{p.receiver}"
    assert GROUP_ENV == group.ENV_VAR  # the variable the group module reads
    apart = {s.name for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), group_background=False))}
    assert {f"edgewatch-{m}" for m in members} <= apart and name not in apart


# the process classes the suite must give (spelled out here, not read from services.py, so the tests can fail)
BACKGROUND = {"edgewatch-background", "edgewatch-receiver"}
ANALYTICS = {"edgewatch-analytics"}
ACTUATION = {"nats-server", "edgewatch-ingest", "edgewatch-rules"}


def test_work_that_can_wait_runs_nicer_than_the_analytics_and_they_nicer_than_the_actuation_path(
    tmp_path: Path,
) -> None:
    cfg = SuiteConfig(tmp_path, ports=Ports.free(), background_nice=7, analytics_nice=2)
    specs = {s.name: s for s in build_specs(cfg)}
    background, actuation = BACKGROUND, ACTUATION
    assert {n for n, s in specs.items() if s.nice == 7} == background
    assert {n for n, s in specs.items() if s.nice == 2} == ANALYTICS
    assert all(specs[n].nice == 0 for n in actuation)
    assert {n for n, s in specs.items() if s.sched == ""} >= ANALYTICS  # no SCHED_BATCH: they preempt the background
    default = SuiteConfig(tmp_path)
    assert default.background_nice > default.analytics_nice >= 0
    apart = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), group_background=False))}
    assert {n for n, s in apart.items() if s.nice == default.background_nice} == {
        "edgewatch-core",
        "edgewatch-sync",
        "edgewatch-console",
        "edgewatch-receiver",
    }
    assert {n for n, s in apart.items() if s.nice == default.analytics_nice and n.startswith("edgewatch-")} >= {
        "edgewatch-features",
        "edgewatch-inference",
    }


def test_background_runs_batch_and_the_actuation_path_with_a_short_slice(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path, ports=Ports.free(), actuation_slice_us=150)
    specs = {s.name: s for s in build_specs(cfg)}
    background, actuation = BACKGROUND, ACTUATION
    assert {n for n, s in specs.items() if s.sched == "background"} == background
    assert {n for n, s in specs.items() if s.sched == "actuation"} == actuation
    assert all(specs[n].slice_ns == 150_000 for n in actuation)
    off = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_batch=False))
    assert not any(s.sched == "background" for s in off)


def test_the_actuation_path_asks_for_sched_fifo_with_its_clients_above_the_bus(tmp_path: Path) -> None:
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), actuation_rt_priority=20))}
    assert specs["nats-server"].rt_priority == 20
    assert specs["edgewatch-ingest"].rt_priority == specs["edgewatch-rules"].rt_priority == 21
    assert all(s.rt_priority == 0 for n, s in specs.items() if n not in ACTUATION)
    off = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), actuation_rt_priority=0))
    assert all(s.rt_priority == 0 for s in off)
    available = frozenset(os.sched_getaffinity(0))
    if len(available) >= 2:  # real-time, ingest and rules keep off the analytics' and the background's CPUs
        lower = available - frozenset(sorted(available)[len(available) // 2 :])
        clients = {"edgewatch-ingest", "edgewatch-rules"}
        assert {n: s.rt_cpus for n, s in specs.items() if s.rt_cpus} == dict.fromkeys(clients, lower)
    unconfined = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_cpus="all"))
    assert all(s.rt_cpus is None for s in unconfined)
    assert {s.name: s.slice_ns for s in off if s.name in ACTUATION} == {n: specs[n].slice_ns for n in ACTUATION}


def test_background_and_analytics_are_confined_to_the_upper_cpus_and_the_actuation_path_is_not(tmp_path: Path) -> None:
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        pytest.skip(f"needs two CPUs or more to confine anything; this process may use {available}")
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free()))}  # background_cpus "auto"
    upper = frozenset(available[len(available) // 2 :])
    assert {n for n, s in specs.items() if s.cpus == upper} == BACKGROUND | ANALYTICS
    assert all(specs[n].cpus is None for n in ACTUATION)
    off = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_cpus="all"))
    assert all(s.cpus is None for s in off)
    one = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_cpus=str(available[-1])))
    assert {s.name for s in one if s.cpus == frozenset({available[-1]})} == BACKGROUND | ANALYTICS


def test_the_actuation_path_does_not_trim_its_heap_and_the_rest_does(tmp_path: Path) -> None:
    assert MALLOC_TRIM_ENV == malloctrim.ENV_EVERY  # the variable the services read
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free()))}
    assert all(specs[n].env[MALLOC_TRIM_ENV] == "0" for n in ("edgewatch-ingest", "edgewatch-rules"))
    grouped = [json.loads(specs[n].env[GROUP_ENV]) for n in ("edgewatch-background", "edgewatch-analytics")]
    assert not any(MALLOC_TRIM_ENV in own for members in grouped for own in members.values())


def test_a_group_holds_services_of_one_scheduling_class() -> None:
    def cls(svc: str) -> str:
        return next(
            (name for name, members in (("bg", services.BACKGROUND), ("an", services.ANALYTICS)) if svc in members),
            "actuation" if svc in services.ACTUATION else "",
        )

    for name, members in services.GROUPS.items():
        assert len({cls(m) for m in members}) == 1, (name, members)
        assert not set(members) & services.ACTUATION, name  # the actuation path keeps processes of its own


def test_the_bundled_nats_server_runs_with_go_s_gc_unless_a_gogc_is_set(tmp_path: Path) -> None:
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free()))}
    assert "GOGC" not in specs["nats-server"].env
    tuned = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), nats_gogc=50))}
    assert tuned["nats-server"].env == {"GOGC": "50"}
    assert all("GOGC" not in s.env for n, s in tuned.items() if n != "nats-server")


def test_a_shutdown_stops_the_clients_of_core_and_of_the_devices_before_them(tmp_path: Path) -> None:
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), demo=True))}
    called = {"edgewatch-background", "edgewatch-receiver", "modbus-sim", "opcua-sim"}  # core leads the background
    assert {n for n, s in specs.items() if s.stop_rank == 0} == called | {"nats-server"}
    assert {n for n, s in specs.items() if s.stop_rank == 1} == {
        "edgewatch-ingest",
        "edgewatch-analytics",
        "edgewatch-rules",
    }
    apart = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), group_background=False))}
    assert apart["edgewatch-core"].stop_rank == 0 and apart["edgewatch-sync"].stop_rank == 1
