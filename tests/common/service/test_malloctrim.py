"""malloc_trim every minute: the C heap's free pages go back to the system; off with 0 or without glibc."""

from __future__ import annotations

import sys
import threading

import pytest

from edgewatch.common.service.malloctrim import ENV_EVERY, start_from_env, trim
from edgewatch.common.service.memtrace import native

pytestmark = pytest.mark.skipif(trim() is None, reason="no glibc malloc_trim here")


def test_trim_gives_back_the_free_pages_between_blocks_still_in_use() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("smaps_rollup is Linux")
    blocks = [bytes(4096) + bytes([i % 256]) for i in range(8000)]  # ~33 MB of malloc'd blocks (over pymalloc's size)
    kept = blocks[::8]  # one in eight stays: the heap's top is in use, the free space between cannot be trimmed
    del blocks
    before = native()["smaps_Anonymous"]
    assert trim() is True
    after = native()["smaps_Anonymous"]
    assert before - after > 16 * 1024 * 1024 and len(kept) == 1000


def test_the_thread_starts_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_EVERY, "0")
    assert start_from_env("edgewatch-test") is False
    assert not any(t.name == "malloc-trim-edgewatch-test" for t in threading.enumerate())
    monkeypatch.setenv(ENV_EVERY, "3600")
    assert start_from_env("edgewatch-test") is True
    assert any(t.name == "malloc-trim-edgewatch-test" and t.daemon for t in threading.enumerate())
