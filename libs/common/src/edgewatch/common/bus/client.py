"""NatsBus: the suite's one NATS connection per service (publish, subscribe, request, JetStream, drain).

Subscriptions wrap their handler: a handler that raises, or a message that fails to decode, is counted,
logged and dead-lettered on ``edgewatch.<service>.deadletter`` with the reason in headers; the service keeps
running. Reconnection is unbounded: a restarted nats-server is rejoined without restarting the service, and
nats-py re-establishes every subscription. Incoming headers keep repeated keys (:class:`Headers`): the connection
is a ``natsadapter.BusClient``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import ConnectionClosedError, NoRespondersError, SlowConsumerError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from edgewatch.common.bus.errors import BusDecodeError
from edgewatch.common.bus.headers import Headers
from edgewatch.common.bus.metrics import BusMetrics, Increment
from edgewatch.common.bus.natsadapter import BusClient
from edgewatch.common.bus.settings import MessageBusSection
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.codec import MessageDecodeError
from edgewatch.common.contracts.errors import ServiceUnavailableError
from edgewatch.common.contracts.limits import LimitError

__all__ = ["BusDecodeError", "Handler", "NatsBus"]

log = logging.getLogger(__name__)
# while the first connect keeps failing (server down, name not resolving, wrong credentials): one WARNING line
# per this many seconds, the first at once
CONNECT_LOG_INTERVAL = 30.0

Handler = Callable[[Msg], Awaitable[None]]

# Cap on cached per-subject counter children (subjects without an explicit kind); the label itself is bounded.
_MAX_CACHED_SUBJECTS = 4096
# Messages a subscription handles between yields to the event loop.
_YIELD_EVERY = 32


class NatsBus:
    """One service's NATS connection."""

    def __init__(self, settings: MessageBusSection, client_name: str, metrics: BusMetrics) -> None:
        self.settings = settings
        self.client_name = client_name
        self.metrics = metrics
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self.reconnected = asyncio.Event()
        # called (synchronously, in order) each time the connection is back after an outage
        self.reconnect_hooks: list[Callable[[], None]] = []
        self._dead_letter_subject = topics.dead_letter(client_name)
        self._last_handled: dict[str, float] = {}  # subscription subject -> Unix time its last message was handled
        metrics.track_last_handled(self._last_handled.items)
        # kind or subject -> cached counter increment (no label lookup per message)
        self._out: dict[str, Increment] = {}

    @property
    def nc(self) -> Client:
        """The underlying nats-py client (connected)."""
        if self._nc is None:
            raise RuntimeError("bus not connected")
        return self._nc

    @property
    def connected(self) -> bool:
        """True while the connection is up."""
        return self._nc is not None and self._nc.is_connected

    @property
    def js(self) -> JetStreamContext:
        """JetStream context on this connection."""
        if self._js is None:
            self._js = self.nc.jetstream()
        return self._js

    async def connect(self) -> None:
        """Connect, retrying without limit until a server answers."""
        s = self.settings

        async def on_disconnect() -> None:
            self.metrics.set_connected(False)
            log.warning("bus disconnected")

        async def on_reconnect() -> None:
            self.metrics.set_connected(True)
            self.metrics.count_reconnect()
            self.reconnected.set()
            log.info("bus reconnected")
            for hook in list(self.reconnect_hooks):
                try:
                    hook()
                except Exception:
                    log.exception("reconnect hook failed")

        dropped = 0
        connect_failures = 0
        next_connect_log = 0.0

        async def on_error(e: Exception) -> None:
            nonlocal dropped, connect_failures, next_connect_log
            if self._nc is None:  # still connecting: a service that cannot reach the bus must say so, not hang mute
                connect_failures += 1
                now = time.monotonic()
                if now >= next_connect_log:  # the first failure, then one line per CONNECT_LOG_INTERVAL
                    next_connect_log = now + CONNECT_LOG_INTERVAL
                    log.warning(
                        "bus connect failed; retrying",
                        extra={"servers": ",".join(s.urls()), "error": repr(e), "attempts": connect_failures},
                    )
                return
            if isinstance(e, SlowConsumerError):  # nats-py dropped a message: a subscription's pending limit was full
                pattern = e.sub.subject if e.sub is not None else e.subject
                self.metrics.count_dropped(pattern)
                dropped += 1
                if dropped % 10_000 == 1:  # one log line per 10,000 drops: a flood must not add logging to it
                    log.warning("bus messages dropped (slow consumer)", extra={"subject": pattern, "total": dropped})
                return
            log.debug("bus error", extra={"error": repr(e)})

        opts: dict[str, Any] = {
            **s.connect_options(self.client_name),
            "disconnected_cb": on_disconnect,
            "reconnected_cb": on_reconnect,
            "error_cb": on_error,
        }
        nc = BusClient()
        await nc.connect(**opts)
        self._nc = nc
        self.metrics.set_connected(True)
        log.info("bus connected", extra={"servers": ",".join(s.urls()), "failed_attempts": connect_failures})

    async def drain(self) -> None:
        """Graceful shutdown: deliver what is in flight, then close."""
        if self._nc is None or self._nc.is_closed:
            return
        try:
            await asyncio.wait_for(self._nc.drain(), self.settings.drain_timeout + 1)
        except Exception:
            log.warning("bus drain did not finish; closing")
            await self._nc.close()
        self.metrics.set_connected(False)

    def publish(
        self, subject: str, data: bytes, headers: dict[str, str] | None = None, kind: str = ""
    ) -> Coroutine[Any, Any, None]:
        """Publish (buffered by the client while reconnecting); ``kind`` labels the out-counter (default: producer).

        Returns the client's publish coroutine to await (a plain function, not a coroutine of its own: on the hot
        path one coroutine per message fewer is measurable).
        """
        nc = self._nc
        if nc is None:
            raise RuntimeError("bus not connected")
        key = kind or subject
        inc = self._out.get(key)
        if inc is None:
            inc = self._out_counter(key, kind or subject.split(".", 2)[1] if "." in subject else subject)
        inc(1)
        return nc.publish(subject, data, headers=headers or None)  # type: ignore[no-any-return]

    def _out_counter(self, key: str, label: str) -> Increment:
        if len(self._out) >= _MAX_CACHED_SUBJECTS:
            self._out.clear()
        inc = self._out[key] = self.metrics.out_counter(label)
        return inc

    async def subscribe(self, subject: str, handler: Handler, *, queue: str = "") -> Subscription:
        """Subscribe with dead-lettering around ``handler`` (messages of one subscription run in order).

        ``messages_in`` is counted per subscription subject (the pattern, so the label stays bounded), and the time
        each message was done with (handled or dead-lettered) is kept for the last-handled gauge.
        """
        counted = self.metrics.in_counter(subject)
        failed = self.handler_failed
        handled = 0
        last, now = self._last_handled, time.time

        async def wrapped(msg: Msg) -> None:
            nonlocal handled
            counted(1)
            handled += 1
            if handled % _YIELD_EVERY == 0:
                # nats-py takes a queued message without suspending: a backlog would hold the loop until drained
                await asyncio.sleep(0)
            try:
                await handler(msg)
            except Exception as e:
                await failed(msg, e)
            last[subject] = now()

        sub = await self.nc.subscribe(subject, queue=queue, cb=wrapped, pending_msgs_limit=512 * 1024)
        await self.settle()
        return sub

    async def settle(self, timeout: int = 2) -> None:
        """Wait until the server has seen what this client sent (best effort; no-op while disconnected).

        Flushes twice: nats-py writes a flush's PING straight to the socket, so one PING can overtake a SUB still
        queued in the client's buffer and return before the server has the subscription.
        """
        if not self.connected:
            return
        with contextlib.suppress(Exception):
            await self.nc.flush(timeout)
            await self.nc.flush(timeout)

    async def handler_failed(self, msg: Msg, e: Exception) -> None:
        """What a subscription does when its handler raised: count, log and dead-letter ``msg`` by the error's kind
        (decode, limit, handler). Handlers that answer in tasks of their own call it for their failures."""
        if isinstance(e, MessageDecodeError):
            await self.dead_letter(msg, f"decode: {e}")
        elif isinstance(e, LimitError):
            self.metrics.count_limit_refusal(e.limit)
            await self.dead_letter(msg, f"limit: {e.message}")
        else:
            log.error("bus handler failed", exc_info=e, extra={"subject": msg.subject})
            await self.dead_letter(msg, f"handler: {type(e).__name__}: {e}")

    async def dead_letter(self, msg: Msg, reason: str) -> None:
        """Count, log and republish a message that could not be processed (original headers kept)."""
        kind = reason.split(":", 1)[0]
        self.metrics.count_dead_letter(kind)
        log.warning("dead-lettered bus message", extra={"subject": msg.subject, "reason": reason[:500]})
        orig = msg.headers
        headers = orig.copy() if isinstance(orig, Headers) else Headers(orig or {})
        headers["Edgewatch-Reason"] = reason[:1000].replace("\r", " ").replace("\n", " ")
        headers["Edgewatch-Subject"] = msg.subject
        try:
            await self.nc.publish(self._dead_letter_subject, msg.data, headers=headers)
        except Exception:
            log.exception("dead-letter publish failed")

    async def request(self, subject: str, data: bytes, *, timeout: float, headers: dict[str, str] | None = None) -> Msg:
        """Request/reply on a NATS inbox; never hangs.

        Raises:
            ServiceUnavailableError: no responder (answered at once by the server), no reply in ``timeout``
                seconds, or the connection is closed.
        """
        try:
            return await self.nc.request(subject, data, timeout=timeout, headers=headers)
        except NoRespondersError as e:
            raise ServiceUnavailableError(f"no responder on {subject}") from e
        except (TimeoutError, NatsTimeoutError) as e:
            raise ServiceUnavailableError(f"no reply on {subject} within {timeout:g}s") from e
        except ConnectionClosedError as e:
            raise ServiceUnavailableError(f"bus closed while requesting {subject}") from e
