"""edgewatch-rules end to end: real nats-server, a core-command stand-in answering EdgeX responses, real REST."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest

from edgewatch.common.bus.envelope import decode_envelope, encode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import encode_add_event
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.rules.app import SERVICE_NAME
from tests.rules.conftest import PUMP_RULE, CoreCommand, feed, score_bytes
from tests.support.waiting import wait_until


async def test_rule_raise_sends_exactly_one_command_with_idempotency_key(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings())
    assert (await svc.http.post("/api/v3/rule", json=PUMP_RULE)).status_code == 201
    await feed(bus, "pump-1", [1, 9, 2, 9, 9, 12, 15, 9, 6])  # raise at the 2nd consecutive >8; 6 is above clear
    await wait_until(lambda: len(alerts) == 1)
    await feed(bus, "pump-1", [20, 21], start=9)

    async def status() -> dict:
        return (await svc.http.get("/api/v3/rule/name/pump-high/status")).json()["status"]

    await wait_until(lambda: _last(status(), 21.0), message="the 21 score is evaluated")
    await core_command.bus.nc.flush()
    assert len(core_command.requests) == 1
    subject, env = core_command.requests[0]
    assert subject == topics.command_request("pump-1", "PumpStop", "set")
    assert core_command.settings(0) == {"PumpStop": "true"}
    (alert,) = alerts
    assert (alert.rule, alert.device, alert.state, alert.severity, alert.kind) == (
        "pump-high",
        "pump-1",
        "raised",
        "critical",
        "threshold",
    )
    assert alert.value == 9 and alert.threshold == 8 and alert.incident == alert.id
    (action,) = alert.actions
    assert (action.result, action.attempts, action.command, action.device) == ("ok", 1, "PumpStop", "pump-1")
    assert action.idempotency_key == env.correlation_id
    assert action.idempotency_key == str(uuid.uuid5(uuid.UUID(alert.id), "0"))
    st = await status()
    assert st["state"] == "running" and st["devices"]["pump-1"]["alertState"] == "raised"


async def test_the_deciding_scores_correlation_id_reaches_the_alert_and_the_command(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings())
    assert (await svc.http.post("/api/v3/rule", json=PUMP_RULE)).status_code == 201
    await feed(bus, "pump-1", [1, 9, 2, 9, 9], traced=True)  # the score with sequence 4 decides (2nd > 8 in a row)
    await wait_until(lambda: len(alerts) == 1 and len(core_command.requests) == 1)
    (alert,) = alerts
    _, env = core_command.requests[0]
    assert alert.correlation_id == "cid-4" and env.correlation_id == "cid-4"
    (action,) = alert.actions
    assert action.idempotency_key == str(uuid.uuid5(uuid.UUID(alert.id), "0"))  # still in the Alert


async def _last(status, value: float) -> bool:  # type: ignore[no-untyped-def]
    return (await status)["devices"].get("pump-1", {}).get("lastValue") == value


async def test_rule_clears_below_clear_threshold_and_a_new_raise_sends_a_new_command(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings())
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await feed(bus, "pump-1", [9, 9, 5, 4, 9, 9])
    await wait_until(lambda: [a.state for a in alerts] == ["raised", "cleared", "raised"])
    first, cleared, second = alerts
    assert cleared.incident == first.id and cleared.actions == [] and cleared.threshold == 4
    assert second.incident == second.id != first.id
    assert len(core_command.requests) == 2
    keys = [env.correlation_id for _, env in core_command.requests]
    assert keys == [first.actions[0].idempotency_key, second.actions[0].idempotency_key] and keys[0] != keys[1]
    all_alerts = (await svc.http.get("/api/v3/alert", params={"rule": "pump-high"})).json()
    assert all_alerts["totalCount"] == 3


async def test_failed_command_is_retried_with_same_key_and_reported(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings(attempts=3))
    core_command.script = ["device locked", "drop", None]  # errorCode 1, then no answer (timeout), then ok
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await feed(bus, "pump-1", [9, 9])
    await wait_until(lambda: len(alerts) == 1, timeout=10)
    (action,) = alerts[0].actions
    assert (action.result, action.attempts) == ("ok", 3)
    assert {env.correlation_id for _, env in core_command.requests} == {action.idempotency_key}
    assert len({env.request_id for _, env in core_command.requests}) == 3


async def test_command_failing_every_attempt_is_reported_and_puts_rule_in_error(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings(attempts=2))
    core_command.script = ["device DOWN", "device DOWN"]
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await feed(bus, "pump-1", [9, 9])
    await wait_until(lambda: len(alerts) == 1, timeout=10)
    (action,) = alerts[0].actions
    assert (action.result, action.attempts, action.error) == ("failed", 2, "device DOWN")
    status = (await svc.http.get("/api/v3/rule/name/pump-high/status")).json()["status"]
    assert status["state"] == "error" and "device DOWN" in status["lastError"]
    reg = svc.host.metrics.registry
    assert reg.get_sample_value("edgewatch_rules_commands_total", {"result": "failed"}) == 1


async def test_command_without_core_command_fails_fast_and_is_reported(make_settings, started, alerts, bus):
    svc = await started(make_settings(attempts=2))
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await feed(bus, "pump-1", [9, 9])
    await wait_until(lambda: len(alerts) == 1, timeout=10)
    assert alerts[0].actions[0].result == "failed" and "no responder" in alerts[0].actions[0].error


async def test_malformed_score_is_dead_lettered_and_rules_keep_running(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings())
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    dead = []

    async def on(msg):  # type: ignore[no-untyped-def]
        dead.append(msg.headers["Edgewatch-Reason"])

    await bus.nc.subscribe(topics.dead_letter(SERVICE_NAME), cb=on)
    await bus.nc.flush()
    await bus.nc.flush()  # the first PONG can overtake the SUB in nats-py
    await bus.publish(topics.score("pump-1"), b"\xc1garbage")
    await bus.publish(topics.score("pump-1"), score_bytes("pump-1", 9, 0)[:-3])
    await feed(bus, "pump-1", [9, 9])
    await wait_until(lambda: len(dead) == 2 and len(alerts) == 1)
    assert all(r.startswith("decode:") for r in dead)
    assert svc.host.metrics.registry.get_sample_value("edgewatch_bus_dead_letters_total", {"reason": "decode"}) == 2


async def test_stale_source_raises_stale_alert_and_clears_when_scores_resume(
    make_settings, started, core_command: CoreCommand, alerts, bus
):
    svc = await started(make_settings())
    rule = {
        **PUMP_RULE,
        "stale": {"seconds": 0.3, "actions": [{"command": "PumpStop", "settings": {"PumpStop": True}}]},
    }
    assert (await svc.http.post("/api/v3/rule", json=rule)).status_code == 201
    await feed(bus, "pump-1", [1])
    await wait_until(lambda: len(alerts) == 1, timeout=5)
    stale = alerts[0]
    assert (stale.kind, stale.state, stale.severity, stale.threshold) == ("stale", "raised", "major", 0.3)
    assert stale.actions[0].result == "ok" and core_command.settings(0) == {"PumpStop": "true"}
    await feed(bus, "pump-1", [1], start=1)
    await wait_until(lambda: len(alerts) == 2)
    assert (alerts[1].kind, alerts[1].state, alerts[1].incident) == ("stale", "cleared", stale.id)


async def test_stale_armed_on_start_fires_for_a_device_never_seen(make_settings, started, alerts):
    svc = await started(make_settings())
    rule = {**PUMP_RULE, "actions": [], "stale": {"seconds": 0.2, "armOnStart": True}}
    await svc.http.post("/api/v3/rule", json=rule)
    await wait_until(lambda: len(alerts) == 1, timeout=5)
    assert (alerts[0].kind, alerts[0].device) == ("stale", "pump-1")


async def test_reading_rule_acts_on_edgex_events(make_settings, started, core_command: CoreCommand, alerts, bus):
    svc = await started(make_settings())
    rule = {
        "name": "vib-high",
        "source": {"kind": "reading", "device": "*", "name": "Vibration"},
        "condition": {"comparator": ">=", "threshold": 7.05},
        "window": {"aggregate": "mean", "samples": 2},
        "actions": [{"command": "PumpStop", "settings": {"PumpStop": "true"}}],
    }
    assert (await svc.http.post("/api/v3/rule", json=rule)).status_code == 201
    for i, v in enumerate([2.0, 7.0, 7.2, 1.0]):
        ev = new_event(
            "pump-7", "demo-pump", "Vibration", [Reading.simple("pump-7", "demo-pump", "Vibration", "Float32", v)]
        )
        body, headers = encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(ev))), "nats")
        await bus.publish(topics.device_event("edgewatch-ingest", "demo-pump", "pump-7", "Vibration"), body, headers)
        if i == 2:
            await wait_until(lambda: len(alerts) == 1)
    await wait_until(lambda: len(alerts) == 2)
    assert [a.state for a in alerts] == ["raised", "cleared"] and alerts[0].value == pytest.approx(7.1)
    assert core_command.requests[0][0] == topics.command_request("pump-7", "PumpStop", "set")


async def test_bool_reading_rule_treats_true_as_one(make_settings, started, alerts, bus):
    svc = await started(make_settings())
    rule = {
        "name": "stopped",
        "source": {"kind": "reading", "device": "pump-7", "name": "PumpStop"},
        "condition": {"comparator": ">", "threshold": 0.5},
        "severity": "info",
    }
    assert (await svc.http.post("/api/v3/rule", json=rule)).status_code == 201
    for v in (False, True):
        ev = new_event(
            "pump-7", "demo-pump", "PumpStop", [Reading.simple("pump-7", "demo-pump", "PumpStop", "Bool", v)]
        )
        body, headers = encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(ev))), "json")
        await bus.publish(topics.device_event("edgewatch-ingest", "demo-pump", "pump-7", "PumpStop"), body, headers)
    await wait_until(lambda: len(alerts) == 1)
    assert (alerts[0].rule, alerts[0].value, alerts[0].severity) == ("stopped", 1.0, "info")


async def test_feature_rule_acts_on_feature_vectors(make_settings, started, alerts, bus):
    svc = await started(make_settings())
    rule = {
        "name": "temp-high",
        "source": {"kind": "feature", "device": "pump-2", "name": "Temperature.mean"},
        "condition": {"comparator": ">", "threshold": 80},
    }
    await svc.http.post("/api/v3/rule", json=rule)
    for v in (70.0, 85.0):
        fv = FeatureVector(
            device="pump-2",
            resources=["Temperature"],
            window_start=1,
            window_end=2,
            sample_count=5,
            names=["Temperature.std", "Temperature.mean"],
            values=np.array([0.5, v]),
        )
        await bus.publish(topics.feature_vector("pump-2"), encode_feature_vector(fv))
    await wait_until(lambda: len(alerts) == 1)
    assert (alerts[0].value, alerts[0].device, alerts[0].actions) == (85.0, "pump-2", [])


async def test_a_raise_sends_its_command_without_waiting_for_the_answer_to_the_previous_raise(
    make_settings, started, alerts, bus
):
    requests: list[str] = []
    all_in = asyncio.Event()

    async def core_command(msg) -> None:  # answers nothing before the third command has come
        env = decode_envelope(msg)
        requests.append(env.correlation_id)
        if len(requests) == 3:
            all_in.set()

        async def answer() -> None:
            await all_in.wait()
            await edgex_respond(bus, env, responder="core-command")

        asyncio.get_running_loop().create_task(answer())

    await bus.nc.subscribe(topics.command_request_all(), cb=core_command)
    await bus.nc.flush()
    await bus.nc.flush()
    svc = await started(make_settings(command_timeout=5, attempts=1))
    rule = {**PUMP_RULE, "debounce": {"count": 1}}
    assert (await svc.http.post("/api/v3/rule", json=rule)).status_code == 201
    await feed(bus, "pump-1", [9, 1, 9, 1, 9], traced=True)  # three raises, each cleared before the next
    await wait_until(lambda: len([a for a in alerts if a.state == "raised"]) == 3, timeout=10)
    assert requests == ["cid-0", "cid-2", "cid-4"]  # sent in decision order, all before any answer
    raised = [a for a in alerts if a.state == "raised"]
    assert [a.correlation_id for a in raised] == ["cid-0", "cid-2", "cid-4"]
    assert all(a.actions[0].result == "ok" and a.actions[0].attempts == 1 for a in raised)
