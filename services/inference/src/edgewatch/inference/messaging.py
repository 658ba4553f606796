"""Bus side of edgewatch-inference: FeatureVectors in, Scores (and shadow Scores) out (no business logic here).

Vectors are decoded as they arrive and queued in a ``MicroBatcher`` (``Inference.MaxBatch``,
``Inference.BatchDeadlineMs``). Each batch is prepared on the event loop, its ``session.run`` calls run in one
worker thread (ORT releases the GIL, so the loop keeps receiving meanwhile), and its Scores are built and
published back on the loop, one batch at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.feature import FeatureVector, decode_feature_vector
from edgewatch.common.contracts.score import encode_score_doc
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.inference.batching import MicroBatcher
from edgewatch.inference.engine import InferenceEngine, Outcome
from edgewatch.inference.scoring import VectorLike

__all__ = ["ScoreMessaging", "score_off_loop"]

log = logging.getLogger(__name__)


async def score_off_loop(
    engine: InferenceEngine, executor: Executor | None, fvs: Sequence[VectorLike]
) -> tuple[list[Outcome], list[dict[str, Any]]]:
    """Score one batch: prepare on the loop, ``session.run`` in ``executor``, finish on the loop.

    Returns the outcome per vector and the shadow Score documents (see ``InferenceEngine.finish``).
    """
    plan = engine.prepare(fvs)
    if any(g.x is not None for g in plan.groups):
        await asyncio.get_running_loop().run_in_executor(executor, plan.run)
    return engine.finish(plan)


class ScoreMessaging:
    """Subscribes to every FeatureVector, scores it, and publishes the Score on ``topics.score(device)``.

    Shadow models' Scores go to ``topics.shadow_score(device)``, which rules and sync do not subscribe to.
    A vector the engine refuses (names that do not match the model, non-finite values, no model) is counted
    and dead-lettered with the reason; the subscription keeps running.
    """

    def __init__(
        self,
        bus: NatsBus,
        metrics: ServiceMetrics,
        engine: InferenceEngine,
        max_batch: int = 256,
        deadline_s: float = 0.002,
    ) -> None:
        self.bus = bus
        self.engine = engine
        self.rejected = metrics.counter("edgewatch_inference_vectors_rejected", "Vectors not scored", ("reason",))
        self.hop = metrics.hop("inference_vector_score")
        # each vector with its arrival time (perf_counter) for the vector -> score hop histogram
        self.batcher: MicroBatcher[tuple[Msg, FeatureVector, float]] = MicroBatcher(self._score, max_batch, deadline_s)
        self._sub: Subscription | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Start the ORT worker thread and the batcher, then subscribe (one subscription: arrival order)."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="edgewatch-ort")
        self.batcher.start()
        self._sub = await self.bus.subscribe(topics.feature_vector_all(), self.handle)

    async def stop(self) -> None:
        """Unsubscribe, score what is still queued, stop the worker thread."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        await self.batcher.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def handle(self, msg: Msg) -> None:
        """Decode and queue one vector. Decode errors propagate to the bus wrapper, which dead-letters them."""
        self.batcher.put((msg, decode_feature_vector(msg.data), time.perf_counter()))

    async def _score(self, batch: list[tuple[Msg, FeatureVector, float]]) -> None:
        """Score one batch (session.run in the worker thread) and publish its Scores."""
        try:
            outcomes, shadows = await score_off_loop(self.engine, self._executor, [fv for _, fv, _ in batch])
        except Exception as e:
            log.exception("batch scoring failed")
            for msg, _, _ in batch:
                await self.bus.dead_letter(msg, f"handler: {type(e).__name__}: {e}")
            return
        hop = self.hop
        for (msg, _, arrived), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, EdgeXError):
                self.rejected.labels(type(outcome).__name__).inc()
                await self.bus.dead_letter(msg, f"rejected: {outcome.message}")
            elif outcome is not None:
                await self.bus.publish(topics.score(outcome["device"]), encode_score_doc(outcome), kind="score")
                hop(time.perf_counter() - arrived)
        for doc in shadows:
            await self.bus.publish(topics.shadow_score(doc["device"]), encode_score_doc(doc), kind="shadow-score")
