"""Bus side of edgewatch-console: scores, feature vectors, alerts and EdgeX events in, frames to the LiveHub.

The console only listens; it publishes nothing. EdgeX events go through ``intake.py`` (decimated per subject, read
with eventpeek). A message that fails to decode raises and is dead-lettered by the bus like anywhere else.
"""

from __future__ import annotations

import math

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import decode_envelope_parts
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.alert import decode_alert
from edgewatch.common.contracts.featurevalues import decode_feature_values
from edgewatch.common.contracts.score import decode_score
from edgewatch.console.intake import ReadingGate, reading_values
from edgewatch.console.live import LiveHub

__all__ = ["ConsoleMessaging"]

_MS = 1_000_000


def _num(v: float) -> float | None:
    """JSON has no NaN/inf: those become gaps."""
    return v if math.isfinite(v) else None


def _chart(v: float) -> float | None:
    """A feature value for the chart: 6 significant digits (a chart draws far fewer), so that a frame and the
    history that keeps 600 of them per device stay small (``1.2345678901234567`` is 18 bytes of JSON, ``1.23457``
    is 7, and they compress better); NaN/inf become gaps."""
    return float(f"{v:.6g}") if math.isfinite(v) else None


class ConsoleMessaging:
    """Subscribes to the suite's live subjects and turns each message into a LiveHub frame."""

    def __init__(self, bus: NatsBus, hub: LiveHub, gate: ReadingGate | None = None) -> None:
        self.bus = bus
        self.hub = hub
        self.gate = gate if gate is not None else ReadingGate(0.0)
        self._subs: list[Subscription] = []

    async def start(self) -> None:
        for subject, handler in (
            (topics.score_all(), self.on_score),
            (topics.feature_vector_all(), self.on_feature),
            (topics.alert_all(), self.on_alert),
            (topics.device_events_all(), self.on_event),
        ):
            self._subs.append(await self.bus.subscribe(subject, handler))

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()

    async def on_score(self, msg: Msg) -> None:
        s = decode_score(msg.data)
        self.hub.publish(
            s.device,
            "score",
            {
                "t": (s.window_end or s.origin) // _MS,
                "score": _num(s.score),
                "threshold": _num(s.threshold),
                "anomaly": s.is_anomaly,
                "model": f"{s.model_name}@{s.model_version}",
            },
        )

    async def on_feature(self, msg: Msg) -> None:
        fv = decode_feature_values(msg.data)  # plain floats: the console needs no numpy
        values = [_chart(v) for v in fv.values]
        self.hub.publish(
            fv.device, "feature", {"t": (fv.window_end or fv.origin) // _MS, "names": fv.names, "values": values}
        )

    async def on_alert(self, msg: Msg) -> None:
        a = decode_alert(msg.data)
        self.hub.publish(
            a.device,
            "alert",
            {
                "t": a.origin // _MS,
                "rule": a.rule,
                "state": a.state,
                "severity": a.severity,
                "value": _num(a.value),
                "threshold": _num(a.threshold),
                "kind": a.kind,
            },
        )

    async def on_event(self, msg: Msg) -> None:
        """The numeric and Bool readings of an EdgeX event (Bool as 0/1; arrays, binary and null left out), for at
        most one event per ``Console.LiveReadingInterval`` per subject (the others are dropped undecoded)."""
        if not self.gate.admit(msg.subject):
            return
        env = decode_envelope_parts(msg)
        device, origin, values = reading_values(env.payload, env.content_type)
        if values:
            self.hub.publish(device, "reading", {"t": origin // _MS, "values": values})
