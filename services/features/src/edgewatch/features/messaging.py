"""Bus side of edgewatch-features: EdgeX device events in, FeatureVectors out (no feature logic here)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from nats.aio.msg import Msg
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import decode_envelope_parts
from edgewatch.common.bus.errors import BusDecodeError
from edgewatch.common.bus.metrics import Observe
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import Event
from edgewatch.common.contracts.eventcodec import EventDecodeError, decode_event_values_within
from edgewatch.common.contracts.eventfast import EventView
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.readings import BlockInput, ScalarInput, classify

__all__ = ["EventConsumer", "StatsCollector"]

log = logging.getLogger(__name__)


class EventConsumer:
    """Subscribes to every device event, feeds the pipeline and publishes what it produces."""

    def __init__(
        self,
        bus: NatsBus,
        pipeline: FeaturePipeline,
        max_depth: Callable[[], int] = lambda: 32,
        hop: Observe | None = None,
    ) -> None:
        self.bus = bus
        self.hop = hop
        self.pipeline = pipeline
        self.max_depth = max_depth

    async def start(self) -> None:
        """Subscribe to ``edgex.events.device.>`` (``NatsBus.subscribe`` returns once the server has it)."""
        await self.bus.subscribe(topics.device_events_all(), self.handle)

    async def stop(self) -> None:
        """Nothing to release (the bus drains its subscriptions)."""

    async def handle(self, msg: Msg) -> None:
        """Decode one EdgeX event message and publish the FeatureVectors it completes.

        Raises:
            BusDecodeError: not an EdgeX envelope or not an AddEventRequest (the bus dead-letters it).
        """
        t0 = time.perf_counter()
        env = decode_envelope_parts(msg)
        try:
            event = decode_event_values_within(env.payload, env.content_type, self.max_depth())
        except EventDecodeError as e:
            raise BusDecodeError(f"event: {e}") from e
        self.pipeline.correlation_id = env.correlation_id  # the vectors this event closes carry its id
        vectors = self.process(event)
        for fv in vectors:
            await self.bus.publish(topics.feature_vector(fv.device), encode_feature_vector(fv), kind="features")
        if vectors and self.hop is not None:  # only events that close a window: the others produce nothing
            self.hop(time.perf_counter() - t0)

    def process(self, event: Event | EventView) -> list[FeatureVector]:
        """Feed every reading of ``event`` through the pipeline (synchronous: vectorized numpy work)."""
        out: list[FeatureVector] = []
        p = self.pipeline
        for reading in event.readings:
            item = classify(reading, event)
            if isinstance(item, ScalarInput):
                out += p.scalar(event.device_name, event.profile_name, item.resource, item.origin, item.value)
            elif isinstance(item, BlockInput):
                out += p.block(
                    event.device_name,
                    event.profile_name,
                    item.resource,
                    item.origin,
                    item.samples,
                    item.sample_rate,
                    item.profile_spec,
                )
            else:
                p.stats[f"skipped_{item.reason}"] += 1
        return out


class StatsCollector(Collector):
    """Exposes the pipeline's counts as ``edgewatch_features_events_total{kind=...}`` at scrape time."""

    def __init__(self, stats: Callable[[], Iterable[tuple[str, int]]]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[CounterMetricFamily]:
        fam = CounterMetricFamily(
            "edgewatch_features_events", "Windows, vectors and timestamp-policy events by kind", labels=["kind"]
        )
        for kind, n in self.stats():
            fam.add_metric([kind], float(n))
        yield fam
