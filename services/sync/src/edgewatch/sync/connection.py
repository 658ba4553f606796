"""The outboxes' own NATS connection: bulk pulls and acks stay off the service bus connection.

A 100k backlog drain is dominated by per-message client costs, so this connection uses :class:`OutboxClient`, a
nats-py client with two changes (nats-py is pinned; ``tests/sync/test_connection.py`` covers both):

- headers are parsed by a lean parser (same result for well-formed blocks; sync never needs repeated keys);
- a subscription may have a *direct sink*: its messages are handed to a plain function as they are parsed,
  instead of going through the subscription's asyncio queue and delivery task (about a third of the
  per-message cost of a pull).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.settings import MessageBusSection

__all__ = ["OutboxClient", "OutboxConnection", "parse_headers_lean"]

log = logging.getLogger(__name__)

_WS = " \t\n\r\x0b\x0c"
"""ASCII whitespace, as ``bytes.strip()`` removes it."""


def parse_headers_lean(raw: bytes) -> dict[str, str]:
    """``Name: Value`` lines of a NATS header block; names with whitespace or non-ASCII bytes are skipped.

    The same result as nats-py's parser (ASCII whitespace stripped, invalid UTF-8 replaced), in one decode;
    a line with an empty name is dropped (nats-py keeps it under ``""``).
    """
    out: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip(_WS)
        if name.isascii() and len(name.split()) == 1:
            out[name] = value.strip(_WS)
    return out


class OutboxClient(Client):  # type: ignore[misc]
    """nats-py client with a lean header parser and direct-sink subscriptions."""

    _parse_header_lines = staticmethod(parse_headers_lean)

    def __init__(self) -> None:
        super().__init__()
        self._sinks: dict[int, Callable[[Msg], None]] = {}

    def set_sink(self, sub: Subscription, sink: Callable[[Msg], None] | None) -> None:
        """Deliver ``sub``'s messages straight to ``sink`` (None: back to the subscription's own delivery)."""
        if sink is None:
            self._sinks.pop(sub._id, None)
        else:
            self._sinks[sub._id] = sink

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        sink = self._sinks.get(sid)
        if sink is None or sid not in self._subs:
            self._sinks.pop(sid, None)
            await super()._process_msg(sid, subject, reply, data, headers)
            return
        self.stats["in_msgs"] += 1
        self.stats["in_bytes"] += len(data)
        hdr = await self._process_headers(headers) if headers else None
        sink(Msg(self, subject.decode(), reply.decode(), data, hdr, _sid=sid))


class OutboxConnection:
    """Connects like NatsBus (same servers, credentials, unbounded reconnect) under its own client name."""

    def __init__(self, settings: MessageBusSection, name: str) -> None:
        self.settings = settings
        self.name = name
        self._nc: OutboxClient | None = None

    @property
    def nc(self) -> OutboxClient:
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

        nc = OutboxClient()
        await nc.connect(error_cb=on_error, **opts)
        self._nc = nc

    async def close(self) -> None:
        """Close (unacked messages are redelivered to the next uploader)."""
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = None
