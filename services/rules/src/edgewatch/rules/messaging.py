"""Bus side of edgewatch-rules: scores, feature vectors and EdgeX events in, samples to the engine.

Subscriptions follow the rules: feature vectors and device events are only decoded while some rule watches
a feature or a reading, and of an event only the readings some rule watches (``contracts.eventpeek``; the full
decode where that cannot decide). Malformed messages raise BusDecodeError and are dead-lettered by the bus.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.client import BusDecodeError, Handler, NatsBus
from edgewatch.common.bus.envelope import decode_envelope_parts
from edgewatch.common.bus.metrics import Observe
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.eventcodec import EventDecodeError, decode_add_event
from edgewatch.common.contracts.eventpeek import peek_readings
from edgewatch.common.contracts.score import decode_score
from edgewatch.rules.actuator import Actuator
from edgewatch.rules.engine import Decision, RuleEngine
from edgewatch.rules.samples import event_readings

__all__ = ["RulesMessaging"]


class RulesMessaging:
    """Feeds samples from the bus to the engine and hands decisions to the actuator."""

    def __init__(self, bus: NatsBus, engine: RuleEngine, actuator: Actuator, hop: Observe | None = None) -> None:
        self.bus = bus
        self.hop = hop or (lambda _s: None)
        self.engine = engine
        self.actuator = actuator
        self._subs: dict[str, Subscription] = {}
        self._sync_lock = asyncio.Lock()
        self._wanted: dict[str, tuple[str, Handler]] = {
            "score": (topics.score_all(), self.on_score),
            "feature": (topics.feature_vector_all(), self.on_feature),
            "reading": (topics.device_events_all(), self.on_event),
        }

    async def sync(self) -> None:
        """Subscribe to the sources rules use (scores always: the default source); drop the others."""
        async with self._sync_lock:  # two REST changes at once must not subscribe twice
            kinds = self.engine.kinds_in_use() | {"score"}
            for kind, (subject, handler) in self._wanted.items():
                if kind in kinds and kind not in self._subs:
                    self._subs[kind] = await self.bus.subscribe(subject, handler)
                elif kind not in kinds and kind in self._subs:
                    await self._subs.pop(kind).unsubscribe()

    async def stop(self) -> None:
        """Unsubscribe everything."""
        for sub in self._subs.values():
            await sub.unsubscribe()
        self._subs.clear()

    async def _hand_over(self, decisions: list[Decision]) -> None:
        """Hand decisions to the actuator and let it send at once.

        A raise's first SET is sent here, before its decision is queued, when nothing holds it back
        (``Actuator.submit_now``). nats-py runs one subscription's callbacks back to back without yielding while
        messages are queued, so a command left to a task would wait for the whole backlog (a burst of events)
        before its task ran, and its bytes would wait again for the client's flusher task. The first yield lets
        the flusher write what was sent here and runs queued actions up to their requests, the second writes
        those; without decisions nothing yields.
        """
        if not decisions:
            return
        for d in decisions:
            await self.actuator.submit_now(d)
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    async def on_score(self, msg: Msg) -> None:
        """One Score -> the rules watching scores."""
        t0 = time.perf_counter()
        s = decode_score(msg.data)
        decisions = self.engine.on_sample("score", s.device, "", s.score, s.window_end or s.origin)
        self.hop(time.perf_counter() - t0)
        await self._hand_over(_traced(decisions, s.correlation_id))

    async def on_feature(self, msg: Msg) -> None:
        """One FeatureVector -> the rules watching its features."""
        from edgewatch.common.contracts.feature import decode_feature_vector  # numpy: only once a rule needs it

        t0 = time.perf_counter()
        fv = decode_feature_vector(msg.data)
        wanted = self.engine.names_in_use("feature")
        t = fv.window_end or fv.origin
        decisions: list[Decision] = []
        for i, name in enumerate(fv.names):
            if name in wanted:
                decisions += self.engine.on_sample("feature", fv.device, name, float(fv.values[i]), t)
        self.hop(time.perf_counter() - t0)
        await self._hand_over(_traced(decisions, fv.correlation_id))

    async def on_event(self, msg: Msg) -> None:
        """One EdgeX event (``nats`` or ``json`` format) -> the rules watching its numeric/Bool readings."""
        t0 = time.perf_counter()
        env = decode_envelope_parts(msg)
        wanted = self.engine.names_in_use("reading")
        peeked = peek_readings(env.payload, env.content_type, wanted)  # the watched readings only (eventpeek.py)
        if peeked is None:
            try:
                event = decode_add_event(env.payload, env.content_type).event
            except EventDecodeError as e:
                raise BusDecodeError(f"event: {e.message}") from e
            peeked = event.device_name, list(event_readings(event, wanted))
        device, samples = peeked
        decisions: list[Decision] = []
        for resource, value, t in samples:
            decisions += self.engine.on_sample("reading", device, resource, value, t)
        self.hop(time.perf_counter() - t0)
        await self._hand_over(_traced(decisions, env.correlation_id))


def _traced(decisions: list[Decision], correlation_id: str) -> list[Decision]:
    """The decisions named by the correlation id of the message that decided them (alerts and commands carry it)."""
    if not decisions or not correlation_id:
        return decisions
    return [dataclasses.replace(d, correlation_id=correlation_id) for d in decisions]
