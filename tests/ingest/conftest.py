"""Ingest fixtures: a connection pool closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edgewatch.ingest.drivers.modbus.protocol import ConnectionPool


@pytest.fixture
async def pool() -> AsyncIterator[ConnectionPool]:
    """A Modbus connection pool with fast reconnect backoff."""
    p = ConnectionPool(backoff_initial=0.05, backoff_max=0.5)
    try:
        yield p
    finally:
        await p.close()
