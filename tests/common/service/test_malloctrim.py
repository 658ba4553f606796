"""malloc_trim every minute: the C heap's free pages go back to the system; off with 0 or without glibc."""

from __future__ import annotations

import subprocess
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


_PROBE = """
from edgewatch.common.service.malloctrim import fix_mmap_threshold
from edgewatch.common.service.memtrace import native
if {fix}:
    assert fix_mmap_threshold(1 << 20)
first = bytearray(8 << 20)  # freed: glibc's dynamic threshold rises to 8 MiB
del first
before = native()["mallinfo2_hblkhd"]
table = bytearray(6 << 20)  # a smaller big block
print(native()["mallinfo2_hblkhd"] - before)
"""


def _mmapped_by_second_block(fix: bool) -> int:
    # a fresh process: the heap of this one may have free space that a big block is carved from either way
    out = subprocess.run([sys.executable, "-c", _PROBE.format(fix=fix)], capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_a_fixed_mmap_threshold_keeps_big_blocks_in_their_own_mapping() -> None:
    if "mallinfo2_hblkhd" not in native():
        pytest.skip("no glibc mallinfo2 here")
    assert _mmapped_by_second_block(fix=False) == 0  # glibc's dynamic threshold: carved from the heap
    assert _mmapped_by_second_block(fix=True) >= 6 << 20
