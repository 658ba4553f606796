"""The process table of ``edgewatch up``: core-command runs in a process of its own, apart from core-metadata and
core-data, each serving only its own APIs on the EdgeX ports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.services import REST_PORTS, build_specs


def test_core_command_runs_apart_from_core_metadata_and_core_data(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path, ports=Ports.free())
    specs = {s.name: s for s in build_specs(cfg)}
    core, command = specs["edgewatch-core"], specs["edgewatch-core-command"]
    assert core.argv[-1] == command.argv[-1] == "edgewatch.core"
    assert core.env["CORE_APIS"] == "[metadata, data]" and command.env["CORE_APIS"] == "[command]"
    assert command.env["SERVICE_PORT"] == str(cfg.ports.core_command)
    assert core.ping_urls != command.ping_urls and str(cfg.ports.core_command) in command.ping_urls[0]
    assert {"core_data", "core_metadata", "core_command"} <= set(REST_PORTS)


# the process classes the suite must give (spelled out here, not read from services.py, so the tests can fail)
BACKGROUND = {
    "edgewatch-core",
    "edgewatch-sync",
    "edgewatch-features",
    "edgewatch-inference",
    "edgewatch-receiver",
    "edgewatch-console",
}
ACTUATION = {"nats-server", "edgewatch-ingest", "edgewatch-rules", "edgewatch-core-command"}


def test_work_that_can_wait_runs_nicer_than_the_actuation_path(tmp_path: Path) -> None:
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_nice=7))}
    background, actuation = BACKGROUND, ACTUATION
    assert {n for n, s in specs.items() if s.nice == 7} == background
    assert all(specs[n].nice == 0 for n in actuation)


def test_background_runs_batch_and_the_actuation_path_with_a_short_slice(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path, ports=Ports.free(), actuation_slice_us=150)
    specs = {s.name: s for s in build_specs(cfg)}
    background, actuation = BACKGROUND, ACTUATION
    assert {n for n, s in specs.items() if s.sched == "background"} == background
    assert {n for n, s in specs.items() if s.sched == "actuation"} == actuation
    assert all(specs[n].slice_ns == 150_000 for n in actuation)
    off = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_batch=False))
    assert not any(s.sched == "background" for s in off)


def test_background_is_confined_to_the_upper_cpus_and_the_actuation_path_is_not(tmp_path: Path) -> None:
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        pytest.skip(f"needs two CPUs or more to confine anything; this process may use {available}")
    specs = {s.name: s for s in build_specs(SuiteConfig(tmp_path, ports=Ports.free()))}  # background_cpus "auto"
    upper = frozenset(available[len(available) // 2 :])
    assert {n for n, s in specs.items() if s.cpus == upper} == BACKGROUND
    assert all(specs[n].cpus is None for n in ACTUATION)
    off = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_cpus="all"))
    assert all(s.cpus is None for s in off)
    one = build_specs(SuiteConfig(tmp_path, ports=Ports.free(), background_cpus=str(available[-1])))
    assert {s.name for s in one if s.cpus == frozenset({available[-1]})} == BACKGROUND
