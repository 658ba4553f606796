"""NatsBus: the suite's one NATS connection per service (publish, subscribe, request, JetStream, drain).

Subscriptions wrap their handler: a handler that raises, or a message that fails to decode, is counted,
logged and dead-lettered on ``edgewatch.<service>.deadletter`` with the reason in headers; the service keeps
running. Reconnection is unbounded: a restarted nats-server is rejoined without restarting the service, and
nats-py re-establishes every subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import ServiceUnavailableError
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import MessageBusSection

__all__ = ["BusDecodeError", "Handler", "NatsBus"]

log = logging.getLogger(__name__)

Handler = Callable[[Msg], Awaitable[None]]


class BusDecodeError(ValueError):
    """A bus message could not be decoded into its wire model (dead-lettered, never fatal)."""


class NatsBus:
    """One service's NATS connection."""

    def __init__(self, settings: MessageBusSection, client_name: str, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.client_name = client_name
        self.metrics = metrics
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self.reconnected = asyncio.Event()

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
            self.metrics.bus_connected.set(0)
            log.warning("bus disconnected")

        async def on_reconnect() -> None:
            self.metrics.bus_connected.set(1)
            self.metrics.bus_reconnects.inc()
            self.reconnected.set()
            log.info("bus reconnected")

        async def on_error(e: Exception) -> None:
            log.debug("bus error", extra={"error": repr(e)})

        opts: dict[str, Any] = {
            "servers": s.urls(),
            "name": self.client_name,
            "connect_timeout": s.connect_timeout,
            "reconnect_time_wait": s.reconnect_wait,
            "max_reconnect_attempts": -1,
            "allow_reconnect": True,
            "drain_timeout": s.drain_timeout,
            "disconnected_cb": on_disconnect,
            "reconnected_cb": on_reconnect,
            "error_cb": on_error,
            "pending_size": 64 * 1024 * 1024,
            "ping_interval": 5,
            "max_outstanding_pings": 2,
        }
        if s.user:
            opts["user"], opts["password"] = s.user, s.password
        if s.token:
            opts["token"] = s.token
        if s.credentials_file:
            opts["user_credentials"] = s.credentials_file
        self._nc = await nats.connect(**opts)
        self.metrics.bus_connected.set(1)
        log.info("bus connected", extra={"servers": ",".join(s.urls())})

    async def drain(self) -> None:
        """Graceful shutdown: deliver what is in flight, then close."""
        if self._nc is None or self._nc.is_closed:
            return
        try:
            await asyncio.wait_for(self._nc.drain(), self.settings.drain_timeout + 1)
        except Exception:
            log.warning("bus drain did not finish; closing")
            await self._nc.close()
        self.metrics.bus_connected.set(0)

    async def publish(self, subject: str, data: bytes, headers: dict[str, str] | None = None, kind: str = "") -> None:
        """Publish (buffered by the client while reconnecting)."""
        await self.nc.publish(subject, data, headers=headers)
        self.metrics.messages_out.labels(kind or subject.split(".", 2)[1]).inc()

    async def subscribe(self, subject: str, handler: Handler, *, queue: str = "") -> Subscription:
        """Subscribe with dead-lettering around ``handler`` (messages of one subscription run in order)."""

        async def wrapped(msg: Msg) -> None:
            try:
                await handler(msg)
            except BusDecodeError as e:
                await self.dead_letter(msg, f"decode: {e}")
            except Exception as e:
                log.exception("bus handler failed", extra={"subject": msg.subject})
                await self.dead_letter(msg, f"handler: {type(e).__name__}: {e}")

        return await self.nc.subscribe(subject, queue=queue, cb=wrapped, pending_msgs_limit=512 * 1024)

    async def dead_letter(self, msg: Msg, reason: str) -> None:
        """Count, log and republish a message that could not be processed."""
        kind = reason.split(":", 1)[0]
        self.metrics.dead_letters.labels(kind).inc()
        log.warning("dead-lettered bus message", extra={"subject": msg.subject, "reason": reason[:500]})
        headers = {
            "Edgewatch-Reason": reason[:1000].replace("\r", " ").replace("\n", " "),
            "Edgewatch-Subject": msg.subject,
        }
        try:
            await self.nc.publish(topics.dead_letter(self.client_name), msg.data, headers=headers)
        except Exception:
            log.exception("dead-letter publish failed")

    async def request(self, subject: str, data: bytes, *, timeout: float, headers: dict[str, str] | None = None) -> Msg:
        """Request/reply; no answer in ``timeout`` raises ServiceUnavailableError (never hangs).

        Raises:
            ServiceUnavailableError: no responder, or no reply in time.
        """
        try:
            return await self.nc.request(subject, data, timeout=timeout, headers=headers)
        except NoRespondersError as e:
            raise ServiceUnavailableError(f"no responder on {subject}") from e
        except (TimeoutError, NatsTimeoutError) as e:
            raise ServiceUnavailableError(f"no reply on {subject} within {timeout:g}s") from e
