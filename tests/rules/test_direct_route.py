"""Actuation.Route: direct: rules SETs straight to the device service after core-command's own checks, run on its
read-only replica of core-metadata's buckets; refusals carry core-command's texts; a change made through
core-metadata's REST API is honoured by the next command. The core-command route and the fallback (replica not
loaded) go through core-command. Real core, real ingest, real pymodbus simulator, real nats-server."""

from __future__ import annotations

import json
from typing import Any

import httpx
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.alert import Alert
from edgewatch.common.service.host import ServiceHost
from tests.rules.conftest import feed
from tests.rules.plant import DEVICE, running_plant
from tests.support.waiting import wait_until

RULE: dict[str, Any] = {
    "name": "plant-direct",
    "source": {"kind": "score", "device": DEVICE},
    "condition": {"comparator": ">", "threshold": 8.0, "clearThreshold": 4.0},
    "debounce": {"count": 1},
    "actions": [
        {"command": "PumpStop", "settings": {"PumpStop": True}},
        {"command": "Nope", "settings": {"Nope": 1}},  # no such command or resource: 404
        {"command": "Current", "settings": {"Current": 1}},  # a read-only resource: 405
    ],
}


async def _tap(bus: NatsBus, subject: str) -> list[str]:
    seen: list[str] = []

    async def on(msg: Msg) -> None:
        seen.append(msg.subject)

    await bus.subscribe(subject, on)
    await bus.nc.flush()
    return seen


def _meta(core: ServiceHost) -> httpx.AsyncClient:
    app = next(a for lbl, _p, a in core.apps if lbl == "core-metadata")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://core/api/v3")


async def _via_core_command(bus: NatsBus, command: str, settings: dict[str, Any]) -> str:
    """What core-command answers to the same SET (its error text, "" when it succeeded)."""
    body = new_envelope(json.dumps(settings).encode())
    resp = await edgex_request(
        bus, topics.command_request(DEVICE, command, "set"), body, responder="core-command", timeout=3
    )
    return resp.payload.decode() if resp.error_code else ""


async def _raise(bus: NatsBus, alerts: list[Alert], seq: int) -> Alert:
    """Clear, then raise the rule once more; the raise's Alert (its actions done)."""
    n = len([a for a in alerts if a.state == "raised"])
    await feed(bus, DEVICE, [1.0, 9.0], start=seq)
    await wait_until(lambda: len([a for a in alerts if a.state == "raised"]) > n, 10, message="the raise alert")
    return [a for a in alerts if a.state == "raised"][-1]


async def _direct_rules(started: Any, make_settings: Any) -> Any:
    """rules on the direct route, once its metadata replica has loaded."""
    svc = await started(make_settings(route="direct", attempts=1, command_timeout=3))

    async def replica_ready() -> bool:
        return bool((await svc.http.get("/api/v3/health")).json()["metadataReplicaReady"])

    await wait_until(replica_ready, 10, message="rules' metadata replica loaded")
    return svc


async def test_direct_route_sets_the_device_and_refuses_as_core_command_does(
    nats_server, bus, tmp_path, make_settings, started, alerts
):
    core_requests = await _tap(bus, topics.command_request_all())
    device_requests = await _tap(bus, topics.device_command_request_all("edgewatch-ingest"))
    async with running_plant(nats_server, tmp_path, values={"Current": 10.0, "Vibration": 2.0}) as plant:
        await plant.start_ingest()
        svc = await _direct_rules(started, make_settings)
        assert (await svc.http.post("/api/v3/rule", json=RULE)).status_code == 201

        first = await _raise(bus, alerts, 0)
        stop, nope, current = first.actions
        assert (stop.result, stop.error) == ("ok", "")
        assert plant.sim.get_value("PumpStop") is True  # the real device took the SET
        assert nope.error == "404 device 'plant-1' has no command or resource 'Nope'"
        assert current.error == "405 command 'Current' of device 'plant-1' is R: SET is not allowed"
        # straight to the device service: nothing went through core-command
        assert core_requests == [] and device_requests == [
            topics.device_command_request("edgewatch-ingest", DEVICE, "PumpStop", "set")
        ]
        assert nope.error == await _via_core_command(bus, "Nope", {"Nope": 1})
        assert current.error == await _via_core_command(bus, "Current", {"Current": 1})

        # changes made through core-metadata's REST API, each followed at once by the next command
        async with _meta(plant.core) as meta:
            changes: list[tuple[str, dict[str, Any], str]] = [
                ("/device", {"name": DEVICE, "adminState": "LOCKED"}, "423 device 'plant-1' is LOCKED"),
                (
                    "/device",
                    {"name": DEVICE, "adminState": "UNLOCKED", "operatingState": "DOWN"},
                    "423 device 'plant-1' is DOWN",
                ),
                ("/device", {"name": DEVICE, "operatingState": "UP"}, ""),
                (
                    "/deviceservice",
                    {"name": "edgewatch-ingest", "adminState": "LOCKED"},
                    "423 device service 'edgewatch-ingest' is LOCKED",
                ),
                ("/deviceservice", {"name": "edgewatch-ingest", "adminState": "UNLOCKED"}, ""),
            ]
            for i, (path, change, expected) in enumerate(changes):
                key = "device" if path == "/device" else "service"
                r = await meta.patch(path, json=[{"apiVersion": "v3", key: change}])
                assert r.json()[0]["statusCode"] == 200, r.text
                alert = await _raise(bus, alerts, 2 + 2 * i)
                assert (alert.actions[0].error, alert.actions[0].result) == (expected, "failed" if expected else "ok")
                assert expected == await _via_core_command(bus, "PumpStop", {"PumpStop": True})
        assert core_requests == [
            topics.command_request(DEVICE, c, "set") for c in ["Nope", "Current"] + ["PumpStop"] * 5
        ]


async def test_core_command_route_still_goes_through_core_command(
    nats_server, bus, tmp_path, make_settings, started, alerts
):
    core_requests = await _tap(bus, topics.command_request_all())
    async with running_plant(nats_server, tmp_path, values={"Current": 10.0, "Vibration": 2.0}) as plant:
        await plant.start_ingest()
        svc = await started(make_settings(route="core-command", attempts=1, command_timeout=3))
        assert "metadataReplicaReady" not in (await svc.http.get("/api/v3/health")).json()
        assert (await svc.http.post("/api/v3/rule", json={**RULE, "actions": RULE["actions"][:1]})).status_code == 201
        alert = await _raise(bus, alerts, 0)
    assert (alert.actions[0].result, alert.actions[0].error) == ("ok", "")
    assert plant.sim.get_value("PumpStop") is True
    assert core_requests == [topics.command_request(DEVICE, "PumpStop", "set")]


async def test_direct_route_falls_back_to_core_command_until_the_replica_is_loaded(
    bus, make_settings, started, alerts, core_command
):
    """No metadata buckets (core not up yet): the replica is not ready, so the SET goes through core-command."""
    svc = await started(make_settings(route="direct", attempts=1))
    assert (await svc.http.get("/api/v3/health")).json()["metadataReplicaReady"] is False
    assert (await svc.http.post("/api/v3/rule", json={**RULE, "actions": RULE["actions"][:1]})).status_code == 201
    alert = await _raise(bus, alerts, 0)
    assert (alert.actions[0].result, alert.actions[0].error) == ("ok", "")
    assert [s for s, _env in core_command.requests] == [topics.command_request(DEVICE, "PumpStop", "set")]


async def test_direct_route_keeps_decision_order_when_raises_follow_each_other(
    nats_server, bus, tmp_path, make_settings, started, alerts
):
    """Raises in quick succession (one burst of scores): each raise's SET is sent from the bus handler itself
    (``Actuator.submit_now``), and the device service gets them in decision order, each once, all answered."""
    cids: list[str] = []

    async def on(msg: Msg) -> None:
        cids.append(decode_envelope(msg).correlation_id)

    await bus.subscribe(topics.device_command_request_all("edgewatch-ingest"), on)
    await bus.nc.flush()
    async with running_plant(nats_server, tmp_path, values={"Current": 10.0, "Vibration": 2.0}) as plant:
        await plant.start_ingest()
        svc = await _direct_rules(started, make_settings)
        assert (await svc.http.post("/api/v3/rule", json={**RULE, "actions": RULE["actions"][:1]})).status_code == 201
        await feed(bus, DEVICE, [9.0, 1.0] * 5, traced=True)
        await wait_until(lambda: len([a for a in alerts if a.state == "raised"]) == 5, 10, message="five raises")
    raised = [a for a in alerts if a.state == "raised"]
    assert [a.correlation_id for a in raised] == [f"cid-{i}" for i in range(0, 10, 2)]
    assert all((a.actions[0].result, a.actions[0].error) == ("ok", "") for a in raised)
    assert cids == [f"cid-{i}" for i in range(0, 10, 2)]  # in decision order, none twice
    metrics = (await svc.http.get("/metrics")).text
    assert 'edgewatch_rules_command_requests_total{route="direct"} 5.0' in metrics
