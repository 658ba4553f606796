"""Sync fixtures: a live receiver (in-process, real HTTP port)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.sync.support import LiveReceiver


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[LiveReceiver]:
    """A running receiver with its SQLite store under ``tmp_path``."""
    r = LiveReceiver(tmp_path)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()
