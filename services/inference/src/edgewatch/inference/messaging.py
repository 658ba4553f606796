"""Bus side of edgewatch-inference: FeatureVectors in, Scores out (no business logic here).

Vectors are decoded as they arrive and scored in micro-batches: everything that queued up while the event
loop was busy is scored with one ONNX Runtime call per model on the next loop turn (at most ``max_batch``).
A lone vector is scored on the next turn too, so batching adds no waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.feature import FeatureVector, decode_feature_vector
from edgewatch.common.contracts.score import encode_score_doc
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.inference.engine import InferenceEngine

__all__ = ["ScoreMessaging"]

log = logging.getLogger(__name__)


class ScoreMessaging:
    """Subscribes to every FeatureVector, scores it, and publishes the Score on ``topics.score(device)``.

    A vector the engine refuses (names that do not match the model, non-finite values, no model) is counted
    and dead-lettered with the reason; the subscription keeps running.
    """

    def __init__(self, bus: NatsBus, metrics: ServiceMetrics, engine: InferenceEngine, max_batch: int = 256) -> None:
        self.bus = bus
        self.engine = engine
        self.max_batch = max_batch
        self.rejected = metrics.counter("edgewatch_inference_vectors_rejected", "Vectors not scored", ("reason",))
        self.hop = metrics.hop("inference_vector_score")
        self._sub: Subscription | None = None
        self._pending: list[tuple[Msg, FeatureVector, float]] = []  # with the arrival time (perf_counter)
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe (one subscription: vectors are scored in arrival order)."""
        self._sub = await self.bus.subscribe(topics.feature_vector_all(), self.handle)

    async def stop(self) -> None:
        """Unsubscribe, then score what is still pending."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        if self._flusher is not None:
            await asyncio.wait([self._flusher])
        await self.flush()

    async def handle(self, msg: Msg) -> None:
        """Decode and queue one vector. Decode errors propagate to the bus wrapper, which dead-letters them."""
        self._pending.append((msg, decode_feature_vector(msg.data), time.perf_counter()))
        if len(self._pending) >= self.max_batch:
            await self.flush()
        elif self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        try:
            await self.flush()
        finally:
            self._flusher = None

    async def flush(self) -> None:
        """Score and publish every queued vector (dead-lettering rejected ones)."""
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = self.engine.score_batch([fv for _, fv, _ in batch])
            except Exception as e:
                log.exception("batch scoring failed")
                for msg, _, _ in batch:
                    await self.bus.dead_letter(msg, f"handler: {type(e).__name__}: {e}")
                continue
            hop = self.hop
            for (msg, _, arrived), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, EdgeXError):
                    self.rejected.labels(type(outcome).__name__).inc()
                    await self.bus.dead_letter(msg, f"rejected: {outcome.message}")
                elif outcome is not None:
                    subject = topics.score(outcome["device"])
                    await self.bus.publish(subject, encode_score_doc(outcome), kind="score")
                    hop(time.perf_counter() - arrived)
