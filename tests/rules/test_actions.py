"""Multi-step actions through the real chain: rules -> core-command -> ingest -> a pymodbus simulator, each SET
confirmed by reading the coil back through core-command; a stuck valve fails its confirmation."""

from __future__ import annotations

from typing import Any

from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts import topics
from tests.rules.plant import DEVICE, running_plant
from tests.support.waiting import wait_until

READING = {"kind": "reading", "device": DEVICE}


def _trip_rule(actions: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {
        "name": "plant-trip",
        "condition": {
            "all": [
                {"source": {**READING, "name": "Current"}, "comparator": ">", "threshold": 12},
                {"source": {**READING, "name": "Vibration"}, "comparator": ">", "threshold": 5},
            ]
        },
        "severity": "critical",
        "actions": actions,
        **over,
    }


async def _device_requests(bus: NatsBus) -> list[str]:
    """``<command>.<method>`` of every request core-command forwards to ingest, in order."""
    seen: list[str] = []

    async def on(msg: Msg) -> None:
        seen.append(".".join(msg.subject.split(".")[-2:]))

    await bus.subscribe(topics.device_command_request_all("edgewatch-ingest"), on)
    return seen


async def test_two_step_action_waits_its_delay_and_confirms_each_set_by_reading_it_back(
    nats_server, bus, tmp_path, make_settings, started, alerts
):
    rule = _trip_rule(
        [
            {"command": "PumpStop", "settings": {"PumpStop": True}, "confirm": {}},
            {"command": "ValveOpen", "settings": {"ValveOpen": False}, "delay": 0.3, "confirm": {"within": 2}},
        ]
    )
    requests = await _device_requests(bus)
    async with running_plant(nats_server, tmp_path, values={"Current": 10.0, "Vibration": 6.5}) as plant:
        svc = await started(make_settings(attempts=2, command_timeout=2))
        assert (await svc.http.post("/api/v3/rule", json=rule)).status_code == 201
        await plant.start_ingest()

        async def evaluated_false() -> bool:  # both leaves known, the tree false (0)
            st = (await svc.http.get("/api/v3/rule/name/plant-trip/status")).json()["status"]
            return bool(st["devices"].get(DEVICE, {}).get("lastValue") == 0.0)

        await wait_until(evaluated_false, timeout=10, message="the rule sees the running plant")
        plant.sim.set_value("Current", 13.0)  # the Current leaf turns true at the next poll: raise
        await wait_until(lambda: len(alerts) == 1, timeout=15, message="the raise alert (after both actions)")

    (alert,) = alerts
    assert (alert.state, alert.device, alert.value, alert.threshold) == ("raised", DEVICE, 13.0, 12.0)
    stop, close = alert.actions
    assert (stop.command, stop.result, stop.read_back, stop.error) == ("PumpStop", "ok", "true", "")
    assert (close.command, close.result, close.read_back, close.error) == ("ValveOpen", "ok", "false", "")
    # the real device took both writes, in order, the second at least the delay after the first
    assert plant.sim.get_value("PumpStop") is True and plant.sim.get_value("ValveOpen") is False
    (w1, t1), (w2, t2) = plant.write_times
    assert (w1, w2) == ("PumpStop", "ValveOpen") and t2 - t1 >= 0.3
    # each SET went through core-command to the device service and was read back the same way
    assert requests == ["PumpStop.set", "PumpStop.get", "ValveOpen.set", "ValveOpen.get"]


async def test_stuck_valve_fails_its_confirmation_with_the_value_read_and_stops_the_next_action(
    nats_server, bus, tmp_path, make_settings, started, alerts
):
    rule = _trip_rule(
        [
            {"command": "ValveOpen", "settings": {"ValveOpen": False}, "confirm": {"within": 0.5, "interval": 0.1}},
            {"command": "PumpStop", "settings": {"PumpStop": True}},
        ],
        onActionFailure="stop",
    )
    requests = await _device_requests(bus)
    async with running_plant(nats_server, tmp_path, values={"Current": 13.0, "Vibration": 6.5}) as plant:

        def stuck(_unit: int, name: str) -> None:  # the valve's actuator does not move: it reads open again
            if name == "ValveOpen":
                plant.sim.set_value("ValveOpen", True)

        plant.sim.on_write.append(stuck)
        svc = await started(make_settings(attempts=2, command_timeout=2))
        assert (await svc.http.post("/api/v3/rule", json=rule)).status_code == 201
        await plant.start_ingest()
        await wait_until(lambda: len(alerts) == 1, timeout=15, message="the raise alert")
        status = (await svc.http.get("/api/v3/rule/name/plant-trip/status")).json()["status"]

    close, stop = alerts[0].actions
    assert (close.result, close.read_back) == ("failed", "true")
    assert close.error == f"confirmation failed: {DEVICE}/ValveOpen read back 'true', expected 'false'"
    assert (stop.result, stop.attempts, stop.error) == ("failed", 0, f"not run: {DEVICE}/ValveOpen failed before it")
    assert plant.sim.get_value("PumpStop") is False  # never written
    assert requests[0] == "ValveOpen.set" and set(requests[1:]) == {"ValveOpen.get"} and len(requests) >= 3
    assert status["state"] == "error" and "read back 'true'" in status["lastError"]
