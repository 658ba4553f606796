"""Alerts are never silently dropped: a full alert stream makes the publish retry until the alert is stored; and
commands never wait for such an alert."""

from __future__ import annotations

import asyncio

from nats.js.api import DiscardPolicy, StreamConfig

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts.alert import decode_alert
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.rules.actuator import Actuator
from edgewatch.rules.config import ActuationSection
from tests.rules.conftest import PUMP_RULE, feed
from tests.support.waiting import wait_until


def _actuator(bus: NatsBus) -> Actuator:
    return Actuator(
        bus, ServiceMetrics("rules-test"), ActuationSection(backoff_initial=0.05, backoff_max=0.1), lambda *_: None
    )


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


async def test_commands_do_not_wait_for_an_earlier_alert_the_full_alert_stream_refuses(
    make_settings, started, core_command, bus
):
    await bus.js.add_stream(
        StreamConfig(name="ALERTS", subjects=["edgewatch.rules.alert.>"], max_msgs=1, discard=DiscardPolicy.NEW)
    )
    await bus.js.publish("edgewatch.rules.alert.filler", b"x")  # full: the uplink is down
    svc = await started(make_settings())
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await feed(bus, "pump-1", [9, 9])  # raise: PumpStop sent, its alert refused and retried
    await wait_until(lambda: len(core_command.requests) == 1)
    await feed(bus, "pump-1", [1, 9, 9], start=2)  # clear, raise again: a second PumpStop, alerts still queued
    await wait_until(lambda: len(core_command.requests) == 2, message="the second command, not held by the alerts")
    assert (await bus.js.stream_info("ALERTS")).state.messages == 1  # nothing stored yet
    config = (await bus.js.stream_info("ALERTS")).config
    config.max_msgs = -1
    await bus.js.update_stream(config)  # room again: the three alerts are stored, in decision order
    await wait_until(lambda: _stored(bus, 4), timeout=10, message="all alerts stored")
    got = [decode_alert((await bus.js.get_msg("ALERTS", seq)).data) for seq in (2, 3, 4)]
    assert [a.state for a in got] == ["raised", "cleared", "raised"]
    assert got[1].incident == got[0].id and [len(a.actions) for a in got] == [1, 0, 1]


async def _stored(bus: NatsBus, n: int) -> bool:
    return bool((await bus.js.stream_info("ALERTS")).state.messages == n)
