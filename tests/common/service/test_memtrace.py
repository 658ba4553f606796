"""The tracemalloc debug hook: off unless its variable names a directory (and the service, when a list is given);
two snapshots diff into the allocation sites that grew."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from edgewatch.common.service.memtrace import ENV_DIR, diff, native, start_from_env


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


def test_native_figures_see_the_c_heap_that_tracemalloc_does_not() -> None:
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("smaps_rollup and mallinfo2 are Linux/glibc")
    before = native()
    if "mallinfo2_uordblks" not in before:
        pytest.skip("no glibc mallinfo2 here")
    assert before["smaps_Rss"] > 0 and before["smaps_Anonymous"] > 0
    buf = ctypes.create_string_buffer(4 * 1024 * 1024)  # a C allocation: malloc'd, not traced by tracemalloc
    after = native()
    used = lambda d: d["mallinfo2_uordblks"] + d["mallinfo2_hblkhd"]  # noqa: E731
    assert used(after) - used(before) >= 4 * 1024 * 1024
    del buf
