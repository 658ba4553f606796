"""sync on the bus: the outboxes' own NATS connection and a lean JetStream pull consumer.

Producers need not know sync: each class stream captures its subjects (``streams.py``); the outboxes read them
back here. :class:`OutboxConnection` keeps bulk pulls and acks off the service bus connection. A 100k backlog
drain is dominated by per-message client costs, so it is a :class:`~edgewatch.common.bus.natsadapter.SinkClient`
(the suite's one header parser, and subscriptions that may hand their messages straight to a function as they are
parsed); the nats-py internals behind both live in ``bus.natsadapter``, checked at import against the pinned
nats-py (``tests/sync/test_connection.py`` covers the sink).

:class:`Puller` is the pull consumer: one inbox subscription with a callback, explicit pull requests.

nats-py's ``PullSubscription.fetch`` awaits every message through a task and ``wait_for``; for a backlog drain
that per-message overhead dominates. Here messages land in a list as they are parsed (an
:class:`~edgewatch.common.bus.natsadapter.SinkClient` direct sink; the subscription callback on a plain client), and
``fetch`` issues a pull request only when none is outstanding, so nothing delivered is ever dropped: messages
that arrive after a fetch returned stay buffered, in delivery order, for the next one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from edgewatch.common.bus.natsadapter import SinkClient
from edgewatch.common.bus.settings import MessageBusSection

__all__ = ["OutboxConnection", "PullError", "Puller"]

log = logging.getLogger(__name__)


class PullError(nats.errors.Error):  # type: ignore[misc]
    """The consumer can no longer be pulled from (deleted, or the API answered an error): reopen it."""


_STATUS = "Status"


class Puller:
    """Pulls from one durable consumer of one stream."""

    def __init__(self, nc: Client, stream: str, consumer: str, *, api_prefix: str = "$JS.API") -> None:
        self._nc = nc
        self._next_subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = nc.new_inbox()
        self._sub: Subscription | None = None
        self._buffer: deque[Msg] = deque()
        self._open = 0
        self._open_until = 0.0
        self._error = ""
        self._wake = asyncio.Event()

    async def start(self) -> None:
        """Subscribe the inbox."""
        self._sub = await self._nc.subscribe(
            self._inbox, cb=self._on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1
        )
        if isinstance(self._nc, SinkClient):
            self._nc.set_sink(self._sub, self._take)

    async def stop(self) -> None:
        """Unsubscribe (buffered, unacked messages are redelivered by the server after AckWait)."""
        if self._sub is not None:
            if isinstance(self._nc, SinkClient):
                self._nc.set_sink(self._sub, None)
            try:
                await self._sub.unsubscribe()
            except Exception:
                pass
            self._sub = None

    async def _on_msg(self, msg: Msg) -> None:
        self._take(msg)

    def _take(self, msg: Msg) -> None:
        if msg.headers and _STATUS in msg.headers and not msg.data:
            # 404 no messages, 408 request expired, 409 limits / consumer changes: the request is over.
            if msg.headers[_STATUS] != "100":
                self._open = 0
                if msg.headers[_STATUS] == "409" and "Deleted" in msg.headers.get("Description", ""):
                    self._error = "consumer deleted"
        elif not (msg.reply or "").startswith("$JS.ACK."):
            # Not a stream message: a JetStream API error (e.g. the consumer or stream is gone).
            self._open = 0
            self._error = msg.data[:200].decode(errors="replace")
        else:
            self._buffer.append(msg)
            self._open = max(0, self._open - 1)
        self._wake.set()

    async def fetch(self, n: int, max_wait: float, linger: float) -> list[Msg]:
        """Up to ``n`` messages: returns when ``n`` are buffered, ``linger`` after the first, or at ``max_wait``."""
        if self._error:
            error, self._error = self._error, ""
            raise PullError(error)
        now = time.monotonic()
        if self._open and now > self._open_until:
            self._open = 0  # the request died with a connection or server restart
        if len(self._buffer) < n and self._open == 0:
            want = n - len(self._buffer)
            req = {"batch": want, "expires": int(max_wait * 1e9)}
            self._open, self._open_until = want, now + max_wait + 0.5
            await self._nc.publish(self._next_subject, json.dumps(req).encode(), reply=self._inbox)
        deadline = now + max_wait
        first: float | None = now if self._buffer else None
        while len(self._buffer) < n and self._open:
            now = time.monotonic()
            if first is None and self._buffer:
                first = now
            limit = deadline if first is None else min(deadline, first + linger)
            if now >= limit:
                break
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), limit - now)
            except TimeoutError:
                break
        return [self._buffer.popleft() for _ in range(min(n, len(self._buffer)))]


class OutboxConnection:
    """Connects like NatsBus (same servers, credentials, unbounded reconnect) under its own client name."""

    def __init__(self, settings: MessageBusSection, name: str) -> None:
        self.settings = settings
        self.name = name
        self._nc: SinkClient | None = None
        self._js: JetStreamContext | None = None

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

    def jetstream(self) -> JetStreamContext:
        """The JetStream context on this connection (made once per open connection)."""
        if self._js is None:
            self._js = self.nc.jetstream()
        return self._js

    async def close(self) -> None:
        """Close (unacked messages are redelivered to the next uploader)."""
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = None
        self._js = None
