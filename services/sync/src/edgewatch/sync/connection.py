"""The outboxes' own NATS connection: bulk pulls and acks stay off the service bus connection.

A 100k backlog drain is dominated by per-message client costs, so this connection is a
:class:`~edgewatch.common.bus.natsadapter.SinkClient`: the suite's one header parser, and subscriptions that may
hand their messages straight to a function as they are parsed (the puller's direct sink) instead of through the
subscription's queue and delivery task. The nats-py internals behind both live in ``bus.natsadapter``, checked
at import against the pinned nats-py; ``tests/sync/test_connection.py`` covers the sink.
"""

from __future__ import annotations

import logging
from typing import Any

from edgewatch.common.bus.natsadapter import SinkClient
from edgewatch.common.bus.settings import MessageBusSection

__all__ = ["OutboxConnection"]

log = logging.getLogger(__name__)


class OutboxConnection:
    """Connects like NatsBus (same servers, credentials, unbounded reconnect) under its own client name."""

    def __init__(self, settings: MessageBusSection, name: str) -> None:
        self.settings = settings
        self.name = name
        self._nc: SinkClient | None = None

    @property
    def nc(self) -> SinkClient:
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

        nc = SinkClient()
        await nc.connect(error_cb=on_error, **opts)
        self._nc = nc

    async def close(self) -> None:
        """Close (unacked messages are redelivered to the next uploader)."""
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = None
