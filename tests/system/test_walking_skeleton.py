"""The walking skeleton end to end with real processes and a real nats-server (what `edgewatch up --demo` runs).

simulated Modbus pump -> ingest -> EdgeX event -> features -> inference (ONNX model built in code) -> rules
(score over threshold) -> ingest (Actuation.Route: direct) writes the PumpStop coil -> sync forwards events, scores and
alerts to the cloud receiver. Every hop is asserted separately, so a broken hop names itself. Beside the pump, the
demo's OPC UA mixer (secured endpoint, user from a generated secret) pushes and is polled into EdgeX events too.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from edgewatch.common.contracts.alert import decode_alert
from edgewatch.common.contracts.feature import decode_feature_vector
from edgewatch.common.contracts.score import decode_score
from edgewatch.suite.promtext import hop_histograms
from edgewatch.suite.services import REST_PORTS, ping_url
from tests.support.waiting import wait_until
from tests.system.suite_runner import RunningSuite, running_suite

EVENTS = "edgex.events.device.edgewatch-ingest.demo-pump.demo-pump.>"
VECTORS = "edgewatch.features.vector.demo-pump"
SCORES = "edgewatch.inference.score.demo-pump"
ALERTS = "edgewatch.rules.alert.>"
COMMANDS = "edgex.device.command.request.edgewatch-ingest.demo-pump.PumpStop.set"
MIXER = "edgex.events.device.edgewatch-ingest.demo-mixer.demo-mixer.>"


async def _tap_all(s: RunningSuite) -> None:
    for subject in (EVENTS, VECTORS, SCORES, ALERTS, COMMANDS, MIXER):
        await s.tap(subject)


async def _receiver_records(s: RunningSuite, cls: str) -> list[dict]:  # type: ignore[type-arg]
    token = s.cfg.secret("receiver-token")
    doc = await s.get_json("receiver", f"/sync/records?class={cls}&limit=1000", token=token)
    return list(doc["records"])


@pytest.mark.timeout(400)
async def test_walking_skeleton_flows_from_modbus_to_actuation_and_cloud(tmp_path: Path) -> None:
    async with running_suite(tmp_path / "data", demo_rise=0.4) as s:
        # every documented port answers EdgeX ping
        async with httpx.AsyncClient(timeout=5) as c:
            for name in REST_PORTS:
                r = await c.get(ping_url(getattr(s.cfg.ports, name)))
                assert r.status_code == 200 and r.json()["apiVersion"] == "v3", name
        await _tap_all(s)

        # hop 1: ingest polls the simulator and publishes EdgeX events (nats format: envelope in headers)
        await wait_until(lambda: s.count(EVENTS) >= 5, timeout=30, message="EdgeX events from ingest")
        msg = s.seen[EVENTS][0]
        assert msg.headers is not None and msg.headers.get("Content-Type") == "application/json"
        event = json.loads(msg.data)["event"]
        assert event["deviceName"] == "demo-pump" and event["readings"][0]["profileName"] == "demo-pump"

        # hop 1b: the OPC UA mixer, over Basic256Sha256 SignAndEncrypt: pushed (subscription) and polled sources
        # Speed has a deadband: its one initial notification may precede the tap, so core-data's store counts too
        async def mixer_sources() -> set[str]:
            stored = await s.get_json("core_data", "/event/device/name/demo-mixer?limit=1000")
            return {json.loads(m.data)["event"]["sourceName"] for m in s.seen[MIXER]} | {
                e["sourceName"] for e in stored["events"]
            }

        async def mixer_complete() -> bool:
            return {"Speed", "Level"} <= await mixer_sources()

        await wait_until(mixer_complete, timeout=60, message="OPC UA mixer events")
        mixer = next(json.loads(m.data)["event"] for m in s.seen[MIXER])
        assert mixer["readings"][0]["tags"]["opcuaStatus"] == "Good"

        # hop 2: features turns readings into FeatureVectors (msgpack)
        await wait_until(lambda: s.count(VECTORS) >= 1, timeout=45, message="FeatureVectors from features")
        vec = decode_feature_vector(s.seen[VECTORS][0].data)
        assert vec.device == "demo-pump" and len(vec.names) == len(vec.values) >= 4

        # hop 3: inference scores them with the ONNX model it built
        await wait_until(lambda: s.count(SCORES) >= 1, timeout=90, message="Scores from inference")
        score = decode_score(s.seen[SCORES][-1].data)
        assert score.device == "demo-pump" and score.score >= 0.0

        # hop 4: rules raises an alert when the score crosses the threshold, and commands the pump to stop
        await wait_until(lambda: s.count(ALERTS) >= 1, timeout=120, message="an Alert from rules")
        alert = decode_alert(s.seen[ALERTS][0].data)
        assert alert.rule == "pump-vibration-high" and alert.state == "raised"

        # hop 5: rules sends the SET straight to ingest, which writes the coil on the simulated device
        await wait_until(lambda: s.count(COMMANDS) >= 1, timeout=30, message="command sent to ingest")

        async def coil_is_set() -> bool:
            doc = await s.get_json("core_command", "/device/name/demo-pump/PumpStop")
            return bool(doc["event"]["readings"][0]["value"] == "true")

        await wait_until(coil_is_set, timeout=30, message="PumpStop coil reads true through core-command")

        # one incident, one id: the EdgeX correlation id of the event that closed the deciding window is on the
        # vector, the score, the alert and the command ingest received, and in rules' and ingest's logs
        _assert_one_correlation_id(s, alert.correlation_id)

        # hop 6: sync delivered events, scores and alerts to the cloud receiver
        for cls in ("event", "score", "alert"):

            async def arrived(cls: str = cls) -> bool:
                return len(await _receiver_records(s, cls)) > 0

            await wait_until(arrived, timeout=60, message=f"{cls} records at the receiver")

        # every hop the flow went through is timed in its service's /metrics (edgewatch_hop_seconds{hop})
        await _assert_hops_observed(s)


def _assert_one_correlation_id(s: RunningSuite, cid: str) -> None:
    assert cid, "the alert carries the deciding event's correlation id"
    events = [m for m in s.seen[EVENTS] if m.headers and m.headers.get("X-Correlation-ID") == cid]
    assert len(events) == 1, "exactly one EdgeX event has the alert's correlation id"
    assert any(decode_feature_vector(m.data).correlation_id == cid for m in s.seen[VECTORS]), "vector"
    assert any(decode_score(m.data).correlation_id == cid for m in s.seen[SCORES]), "score"
    commands = [m for m in s.seen[COMMANDS] if m.headers and m.headers.get("X-Correlation-ID") == cid]
    assert commands, "the SET forwarded to ingest carries the alert's correlation id"
    for service in ("edgewatch-rules", "edgewatch-ingest"):  # the direct route: core-command never sees it
        assert cid in s.logs(service), f"{service}'s log names the incident's correlation id"


HOPS_BY_PORT = {
    "ingest": ("ingest_read_publish", "device_command"),
    "features": ("features_window_vector",),
    "inference": ("inference_vector_score",),
    "rules": ("rules_sample_decision", "rules_decision_send", "rules_decision_command", "rules_command_answer"),
    "core_command": ("command_forward_answer",),
    "sync": ("sync_store_ack",),
}


async def _assert_hops_observed(s: RunningSuite) -> None:
    async with httpx.AsyncClient(timeout=5) as c:
        for port_name, hops in HOPS_BY_PORT.items():
            r = await c.get(f"http://127.0.0.1:{getattr(s.cfg.ports, port_name)}/metrics")
            assert r.status_code == 200, port_name
            seen = hop_histograms(r.text)
            for hop in hops:
                assert hop in seen and seen[hop].count >= 1, f"{port_name}: no {hop} observation in /metrics"
                p99 = seen[hop].quantile(0.99)
                assert p99 is not None and 0 <= p99 < 30, (hop, p99)


@pytest.mark.timeout(300)
async def test_services_reconnect_after_nats_server_kill_without_restart(tmp_path: Path) -> None:
    async with running_suite(tmp_path / "data") as s:
        await _tap_all(s)
        await wait_until(lambda: s.count(VECTORS) >= 1, timeout=45, message="flow running before the kill")
        before = s.pids()
        nats_child = s.sup.child("nats-server")
        assert nats_child.proc is not None
        nats_child.proc.kill()  # kill -9; the supervisor starts it again on the same port and store
        await wait_until(
            lambda: nats_child.restarts == 1 and nats_child.proc is not None,
            timeout=30,
            message="nats-server restarted",
        )
        await wait_until(lambda: s.nc.is_connected, timeout=30, message="test tap reconnected")
        counts = {k: s.count(k) for k in (EVENTS, VECTORS)}
        await wait_until(lambda: s.count(EVENTS) > counts[EVENTS] + 5, timeout=45, message="events resume")
        await wait_until(lambda: s.count(VECTORS) > counts[VECTORS], timeout=60, message="vectors resume")
        after = s.pids()
        services = [n for n in before if n.startswith("edgewatch-")]
        assert {n: after[n] for n in services} == {n: before[n] for n in services}, "a service was restarted"
        await asyncio.sleep(0)
