"""DurablePullConsumer: a fetch loop on a durable JetStream pull consumer that outlives nats-server restarts.

The loop (re-)provisions its stream and consumer before binding, and again whenever a fetch fails or the consumer
turns out to be missing, so a restarted server, a deleted consumer or a JetStream that is briefly unavailable
only pause consumption. Each message is acked after its handler returns (at-least-once); a message that cannot
be decoded (MessageDecodeError) is dead-lettered and terminated at once, and one whose handler keeps failing is
retried with a delay up to ``max_attempts`` deliveries, then dead-lettered and terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StreamConfig

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.errors import ProvisioningError
from edgewatch.common.bus.jetstream import ensure_consumer, ensure_stream
from edgewatch.common.contracts.codec import MessageDecodeError

__all__ = ["DurablePullConsumer", "JsHandler"]

log = logging.getLogger(__name__)

JsHandler = Callable[[Msg], Awaitable[None]]


class DurablePullConsumer:
    """Consume a durable pull consumer with ``handler`` until stopped, across server restarts."""

    def __init__(
        self,
        bus: NatsBus,
        stream: StreamConfig,
        consumer: ConsumerConfig,
        handler: JsHandler,
        *,
        batch: int = 64,
        fetch_timeout: float = 1.0,
        max_attempts: int = 5,
        retry_delay: float = 0.5,
    ) -> None:
        if not stream.name or not consumer.durable_name:
            raise ValueError("stream.name and consumer.durable_name are required")
        self.bus = bus
        self.stream = stream
        self.consumer = consumer
        self.handler = handler
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.processed = 0
        self.rebinds = 0  # how often the loop had to re-provision and re-bind (restarts, deleted consumer)
        self._task: asyncio.Task[None] | None = None
        self._label = f"js:{stream.name}/{consumer.durable_name}"

    @property
    def running(self) -> bool:
        """True while the loop task runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop in a task (idempotent)."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self.run(), name=self._label)

    async def stop(self) -> None:
        """Stop the loop; the message being handled (if any) stays unacked and is redelivered later."""
        task, self._task = self._task, None
        await cancel_and_wait([task])

    async def _bind(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        await ensure_stream(js, self.stream)
        await ensure_consumer(js, self.stream.name or "", self.consumer)
        return await js.pull_subscribe_bind(durable=self.consumer.durable_name, stream=self.stream.name)

    async def run(self) -> None:
        """The loop: bind, fetch, handle, ack; on any failure wait ``retry_delay`` and re-provision."""
        sub: JetStreamContext.PullSubscription | None = None
        counted = self.bus.metrics.in_counter(self._label)
        try:
            while True:
                try:
                    js = self.bus.js
                    if sub is None:
                        sub = await self._bind(js)
                    try:
                        msgs = await sub.fetch(self.batch, timeout=self.fetch_timeout)
                    except (TimeoutError, NatsTimeoutError):
                        # idle (or the server went away mid-fetch): make sure the consumer still exists
                        await ensure_consumer(js, self.stream.name or "", self.consumer)
                        continue
                    for msg in msgs:
                        counted(1)
                        await self._handle(msg)
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    conflict = isinstance(e, ProvisioningError)
                    if conflict:  # a configuration conflict needs an operator, not a fast retry loop
                        log.error("pull consumer cannot provision", extra={"consumer": self._label, "error": str(e)})
                    else:
                        log.warning(
                            "pull consumer interrupted; re-binding", extra={"consumer": self._label, "error": repr(e)}
                        )
                    if sub is not None:
                        with contextlib.suppress(Exception):
                            await sub.unsubscribe()
                        sub = None
                    self.rebinds += 1
                    await asyncio.sleep(max(self.retry_delay, 5.0) if conflict else self.retry_delay)
        finally:
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _handle(self, msg: Msg) -> None:
        try:
            await self.handler(msg)
        except MessageDecodeError as e:
            await self.bus.dead_letter(msg, f"decode: {e}")
            await msg.term()
            return
        except Exception as e:
            attempts = msg.metadata.num_delivered or 1
            if attempts >= self.max_attempts:
                log.exception("handler failed; giving up", extra={"consumer": self._label, "attempts": attempts})
                await self.bus.dead_letter(msg, f"handler: {type(e).__name__}: {e} (after {attempts} deliveries)")
                await msg.term()
            else:
                log.warning("handler failed; redelivering", extra={"consumer": self._label, "attempts": attempts})
                await msg.nak(delay=self.retry_delay)
            return
        await msg.ack()
        self.processed += 1
