"""A lean JetStream pull consumer: one inbox subscription with a callback, explicit pull requests.

nats-py's ``PullSubscription.fetch`` awaits every message through a task and ``wait_for``; for a backlog drain
that per-message overhead dominates. Here messages land in a list as they are parsed (an
:class:`~edgewatch.common.bus.natsadapter.SinkClient` direct sink; the subscription callback on a plain client), and
``fetch`` issues a pull request only when none is outstanding, so nothing delivered is ever dropped: messages
that arrive after a fetch returned stay buffered, in delivery order, for the next one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.natsadapter import SinkClient

__all__ = ["PullError", "Puller"]


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
