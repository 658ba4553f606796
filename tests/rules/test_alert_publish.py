"""Alerts are never silently dropped: a full alert stream makes the publish retry until the alert is stored."""

from __future__ import annotations

import asyncio

from nats.js.api import DiscardPolicy, StreamConfig

from edgewatch.common.bus import NatsBus
from edgewatch.rules.actuator import Actuator
from edgewatch.rules.config import ActuationSection
from tests.support.waiting import wait_until


def _actuator(bus: NatsBus) -> Actuator:
    return Actuator(bus, ActuationSection(backoff_initial=0.05, backoff_max=0.1), lambda *_: None)


async def test_alert_is_retried_while_the_alert_stream_is_full_then_stored_once(bus: NatsBus) -> None:
    await bus.js.add_stream(
        StreamConfig(name="ALERTS", subjects=["edgewatch.rules.alert.>"], max_msgs=1, discard=DiscardPolicy.NEW)
    )
    await bus.js.publish("edgewatch.rules.alert.filler", b"x")  # the stream is now full and rejects new data
    act = _actuator(bus)
    task = asyncio.create_task(act.publish_alert("edgewatch.rules.alert.r1", b"alert-1", "id-1"))
    await wait_until(lambda: act.alert_retries._value.get() >= 2, message="publish retried while full")
    assert not task.done()
    await bus.js.purge_stream("ALERTS")  # room again (e.g. the uplink drained the backlog)
    assert await asyncio.wait_for(task, 10) is True
    msg = await bus.js.get_last_msg("ALERTS", "edgewatch.rules.alert.r1")
    assert msg.data == b"alert-1" and msg.headers is not None and msg.headers["Nats-Msg-Id"] == "id-1"
    # a retry of the same alert (same id) is deduplicated by JetStream, not stored twice
    assert await act.publish_alert("edgewatch.rules.alert.r1", b"alert-1", "id-1") is True
    assert (await bus.js.stream_info("ALERTS")).state.messages == 1


async def test_alert_without_any_alert_stream_goes_to_live_subscribers(bus: NatsBus) -> None:
    got: list[bytes] = []

    async def cb(msg) -> None:  # type: ignore[no-untyped-def]
        got.append(msg.data)

    await bus.nc.subscribe("edgewatch.rules.alert.>", cb=cb)
    await bus.nc.flush()
    await bus.nc.flush()
    assert await _actuator(bus).publish_alert("edgewatch.rules.alert.r2", b"alert-2", "id-2") is False
    await wait_until(lambda: got == [b"alert-2"])


async def test_alert_stream_created_later_stores_the_next_alert(bus: NatsBus) -> None:
    act = _actuator(bus)
    assert await act.publish_alert("edgewatch.rules.alert.r3", b"alert-3", "id-3") is False  # no stream yet
    await bus.js.add_stream(StreamConfig(name="ALERTS3", subjects=["edgewatch.rules.alert.>"]))
    assert await act.publish_alert("edgewatch.rules.alert.r3", b"alert-4", "id-4") is True  # sync started: stored
    assert (await bus.js.get_last_msg("ALERTS3", "edgewatch.rules.alert.r3")).data == b"alert-4"
