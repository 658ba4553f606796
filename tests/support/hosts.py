"""Start real service hosts (built with build_app) with an httpx client on their app; stop them all at teardown."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx

from edgewatch.common.service.host import ServiceHost

__all__ = ["HostStarter"]

T = TypeVar("T")


class HostStarter:
    """Enters hosts' lifespans and opens a client per host; ``close()`` undoes it in reverse order."""

    def __init__(self) -> None:
        self._running: list[tuple[ServiceHost, httpx.AsyncClient]] = []

    async def start(self, host: ServiceHost, base_url: str, wrap: Callable[[ServiceHost, httpx.AsyncClient], T]) -> T:
        """Start ``host`` and return ``wrap(host, client)``."""
        await host.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url=base_url)
        self._running.append((host, client))
        return wrap(host, client)

    async def close(self) -> None:
        """Close clients and stop hosts, last started first."""
        for host, client in reversed(self._running):
            await client.aclose()
            await host.__aexit__(None, None, None)
        self._running.clear()
