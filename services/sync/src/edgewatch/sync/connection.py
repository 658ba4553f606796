"""The outboxes' own NATS connection (plain nats-py): bulk pulls and acks stay off the service bus connection.

The suite bus client parses headers keeping repeated keys (EdgeX QueryParams), which costs a few microseconds
per message; sync never needs repeated keys, and a 100k backlog drain is dominated by per-message costs.
"""

from __future__ import annotations

import logging
from typing import Any

import nats
from nats.aio.client import Client

from edgewatch.common.service.settings import MessageBusSection

__all__ = ["OutboxConnection"]

log = logging.getLogger(__name__)


class OutboxConnection:
    """Connects like NatsBus (same servers, credentials, unbounded reconnect) under its own client name."""

    def __init__(self, settings: MessageBusSection, name: str) -> None:
        self.settings = settings
        self.name = name
        self._nc: Client | None = None

    @property
    def nc(self) -> Client:
        """The connected client."""
        if self._nc is None:
            raise RuntimeError("outbox connection not open")
        return self._nc

    async def open(self) -> None:
        """Connect (retrying without limit until a server answers)."""
        s = self.settings
        opts: dict[str, Any] = s.connect_options(self.name)

        async def on_error(e: Exception) -> None:
            log.debug("outbox connection error", extra={"error": repr(e)})

        self._nc = await nats.connect(error_cb=on_error, **opts)

    async def close(self) -> None:
        """Close (unacked messages are redelivered to the next uploader)."""
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = None
