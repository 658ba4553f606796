"""OPC UA driver fixtures: driver options on a temporary PKI / secrets folder, closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions


@pytest.fixture
async def options(tmp_path: Path) -> AsyncIterator[OpcUaOptions]:
    """Driver options with fast reconnects, a PKI folder and a secrets folder under ``tmp_path``."""
    opts = OpcUaOptions.local(tmp_path / "ingest", publishing_interval=0.1)
    try:
        yield opts
    finally:
        await opts.pool.close()
