"""The tracemalloc debug hook: off unless its variable names a directory (and the service, when a list is given);
two snapshots diff into the allocation sites that grew."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from edgewatch.common.service.memtrace import ENV_DIR, diff, start_from_env


def test_off_by_default_and_for_services_not_listed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DIR, raising=False)
    assert start_from_env("edgewatch-console") is False
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "snaps"))
    monkeypatch.setenv("EDGEWATCH_TRACEMALLOC_SERVICES", "edgewatch-sync")
    assert start_from_env("edgewatch-console") is False
    assert not tracemalloc.is_tracing() and not (tmp_path / "snaps").exists()


def test_the_diff_names_the_site_that_grew(tmp_path: Path) -> None:
    kept: list[bytes] = []
    tracemalloc.start(2)
    try:
        tracemalloc.take_snapshot().dump(str(tmp_path / "a.snap"))
        kept += [bytes(1000) + bytes([i % 256]) for i in range(300)]  # the growing site
        tracemalloc.take_snapshot().dump(str(tmp_path / "b.snap"))
    finally:
        tracemalloc.stop()
    lines = diff(tmp_path / "a.snap", tmp_path / "b.snap", top=3)
    assert lines[0].startswith("total ")
    assert "test_memtrace.py" in lines[2] and lines[1].split()[0].startswith("+") and float(lines[1].split()[0]) > 290
