"""Bus side of edgewatch-inference: FeatureVectors in, Scores out (no business logic here)."""

from __future__ import annotations

import logging

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.feature import decode_feature_vector
from edgewatch.common.contracts.score import encode_score
from edgewatch.inference.engine import InferenceEngine

__all__ = ["ScoreMessaging"]

log = logging.getLogger(__name__)


class ScoreMessaging:
    """Subscribes to every FeatureVector, scores it, and publishes the Score on ``topics.score(device)``.

    A vector the engine refuses (names that do not match the model, non-finite values, no model) is counted
    and dead-lettered with the reason; the subscription keeps running.
    """

    def __init__(self, bus: NatsBus, engine: InferenceEngine) -> None:
        self.bus = bus
        self.engine = engine
        self.rejected = bus.metrics.counter("edgewatch_inference_vectors_rejected", "Vectors not scored", ("reason",))
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe (one subscription: vectors are scored in arrival order)."""
        self._sub = await self.bus.subscribe(topics.feature_vector_all(), self.handle)
        await self.bus.nc.flush()  # the server knows the subscription before the service reports ready

    async def stop(self) -> None:
        """Unsubscribe (the bus drains what is in flight)."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    async def handle(self, msg: Msg) -> None:
        """Decode, score, publish. Decode errors propagate to the bus wrapper, which dead-letters them."""
        fv = decode_feature_vector(msg.data)
        try:
            score = self.engine.score(fv)
        except EdgeXError as e:
            self.rejected.labels(type(e).__name__).inc()
            await self.bus.dead_letter(msg, f"rejected: {e.message}")
            return
        if score is not None:
            await self.bus.publish(topics.score(score.device), encode_score(score), kind="score")
