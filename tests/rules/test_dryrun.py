"""Dry runs: recorded runs replayed through POST /api/v3/rule/dryrun reproduce the live alerts exactly; samples
come from the request, from core-data or from the receiver; nothing acts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from nats.aio.msg import Msg

from edgewatch.common.bus.envelope import new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.alert import Alert
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.common.contracts.score import decode_score
from edgewatch.common.service.settings import load_settings
from edgewatch.inference.app import build_app as build_inference
from edgewatch.inference.config import InferenceSettings
from edgewatch.rules.config import DryRunSection
from edgewatch.sim.modbus.server import ModbusSim
from edgewatch.syncwire.batch import (
    BATCH_CONTENT_TYPE,
    IDEMPOTENCY_HEADER,
    BatchHeader,
    DataClass,
    RecordRow,
    encode_rows,
)
from tests.conftest import bus_settings
from tests.receiver.support import LiveReceiver
from tests.rules.conftest import PUMP_RULE, score_bytes
from tests.rules.plant import DEVICE, running_plant
from tests.support.ports import free_port
from tests.support.waiting import wait_until

SERVICES = Path(__file__).resolve().parents[2] / "services"
READING = {"kind": "reading", "device": DEVICE}


def _live(a: Alert) -> dict[str, Any]:
    """What a dry run must reproduce of a live alert (ids and wall-clock origin aside)."""
    acts = [{"device": x.device, "command": x.command, "settings": x.settings} for x in a.actions]
    return {
        "rule": a.rule,
        "device": a.device,
        "kind": a.kind,
        "severity": a.severity,
        "state": a.state,
        "value": a.value,
        "threshold": a.threshold,
        "message": a.message,
        "actions": acts,
    }


def _dry(a: dict[str, Any]) -> dict[str, Any]:
    keys = ("rule", "device", "kind", "severity", "state", "value", "threshold", "message")
    acts = [{k: x[k] for k in ("device", "command", "settings")} for x in a["actions"]]
    return {**{k: a[k] for k in keys}, "actions": acts}


class Pump:
    """Current and vibration ramp up while the pump runs; a stopped pump reads zero current and no vibration."""

    def __init__(self) -> None:
        self.since: float | None = None

    def __call__(self, sim: ModbusSim, t: float) -> None:
        if sim.get_value("PumpStop"):
            self.since = None
            sim.set_value("Current", 0.0)
            sim.set_value("Vibration", 0.1)
            return
        if self.since is None:
            self.since = t
        age = t - self.since
        sim.set_value("Current", min(10.0 + 4.0 * age, 30.0))
        sim.set_value("Vibration", min(2.0 + 6.0 * age, 40.0))


PLANT_TRIP: dict[str, Any] = {
    "name": "plant-trip",
    "condition": {
        "all": [
            {
                "source": {**READING, "name": "Current"},
                "comparator": ">",
                "threshold": 12,
                "clearThreshold": 11,
                "window": {"aggregate": "mean", "samples": 3},
            },
            {
                "any": [
                    {
                        "source": {**READING, "name": "Vibration"},
                        "comparator": ">",
                        "threshold": 5,
                        "clearThreshold": 4,
                        "debounce": {"count": 2},
                    },
                    {
                        "source": {**READING, "name": "Vibration"},
                        "comparator": ">",
                        "threshold": 20,
                        "window": {"aggregate": "rate", "seconds": 0.5},
                    },
                ]
            },
            {"not": {"source": {**READING, "name": "PumpStop"}, "comparator": ">", "threshold": 0.5}},
        ]
    },
    "cooldown": {"seconds": 60},
    "severity": "critical",
    "actions": [{"command": "PumpStop", "settings": {"PumpStop": True}, "confirm": {"within": 2}}],
}


async def test_dry_run_over_a_recorded_plant_run_reproduces_the_live_alerts_exactly(
    nats_server, bus, tmp_path, make_settings, started, alerts
):
    events: list[Msg] = []

    async def tap(msg: Msg) -> None:
        events.append(msg)

    await bus.subscribe(topics.device_events_all(), tap)
    async with running_plant(nats_server, tmp_path, dynamics=Pump()) as plant:
        settings = make_settings(attempts=2, command_timeout=2)
        settings.dry_run = DryRunSection(core_data_url=plant.data_url)
        svc = await started(settings)
        assert (await svc.http.post("/api/v3/rule", json=PLANT_TRIP)).status_code == 201
        await plant.start_ingest()
        # live: the ramp raises, the rule stops the pump (confirmed), the stopped pump clears the alert ...
        await wait_until(lambda: [a.state for a in alerts] == ["raised", "cleared"], timeout=20)
        # ... an operator restarts the pump, the ramp raises again inside the cooldown: an alert, no command
        restart = new_envelope(json.dumps({"PumpStop": "false"}).encode())
        subject = topics.command_request(DEVICE, "PumpStop", "set")
        assert (await edgex_request(bus, subject, restart, responder="core-command", timeout=5)).error_code == 0
        await wait_until(lambda: len(alerts) == 3, timeout=20, message="the raise inside the cooldown")
        await plant.stop_ingest()
        async with httpx.AsyncClient(base_url=plant.data_url) as data:

            async def all_stored() -> bool:
                return bool((await data.get("/api/v3/event/count")).json()["count"] == len(events))

            await wait_until(all_stored, timeout=10, message="core-data holds every event the rule saw")
        body = {"name": "plant-trip", "range": {"source": "core-data", "start": 0, "end": time.time_ns()}}
        r = await svc.http.post("/api/v3/rule/dryrun", json=body)
        assert r.status_code == 200, r.text
        dry = r.json()
        live_status = (await svc.http.get("/api/v3/rule/name/plant-trip/status")).json()["status"]

    assert [a.state for a in alerts] == ["raised", "cleared", "raised"]
    assert alerts[0].actions[0].result == "ok" and alerts[2].actions == []
    assert "held back by the cooldown" in alerts[2].message
    assert dry["samples"] == len(events) * 1  # one reading per event, every one of them watched
    assert [_dry(a) for a in dry["alerts"]] == [_live(a) for a in alerts]
    assert [(x["command"], x["settings"], x["confirm"]) for x in dry["actions"]] == [
        ("PumpStop", {"PumpStop": "true"}, True)
    ]
    assert live_status["raises"] == 2  # the dry run did not touch the live rule


async def test_dry_run_of_the_demo_rule_over_recorded_scores_reproduces_the_live_alerts(
    nats_server, tmp_path, started, make_settings, core_command, alerts, bus
):
    scores: list[dict[str, Any]] = []

    async def tap(msg: Msg) -> None:
        s = decode_score(msg.data)
        scores.append({"kind": "score", "device": s.device, "value": s.score, "t": s.window_end or s.origin})

    await bus.subscribe(topics.score_all(), tap)
    env = {"EDGEWATCH_DATA_DIR": str(tmp_path / "inference")}
    inf_settings = load_settings(InferenceSettings, SERVICES / "inference" / "res" / "configuration.yaml", env=env)
    inf_settings.message_bus = bus_settings(nats_server)
    demo_rules = str(SERVICES / "rules" / "res" / "rules" / "demo-pump.yaml")
    rules = await started(make_settings(files=[demo_rules]))
    async with build_inference(inf_settings):
        rng = np.random.default_rng(3)
        names = ["Vibration.mean", "Vibration.std", "Current.mean"]
        for i in range(46):
            # the demo pump's fault develops after 10 windows; after 40 the pump is stopped and reads near zero
            rise = 0.0 if i < 10 else 0.05 * (i - 10)
            values = np.array([2.0 + rise, 0.2 + rise / 10, 12.0 + rise / 5]) + rng.normal(0, [0.05, 0.01, 0.05])
            if i >= 40:
                values = np.array([2.0, 0.2, 12.0]) + rng.normal(0, [0.05, 0.01, 0.05])  # repaired: back to normal
            fv = FeatureVector(
                device="demo-pump",
                resources=["Vibration", "Current"],
                window_start=i * 5_000_000_000 + 1,
                window_end=(i + 1) * 5_000_000_000,
                sample_count=35,
                names=names,
                values=values,
            )
            await bus.publish(topics.feature_vector("demo-pump"), encode_feature_vector(fv))

        async def last_window_evaluated() -> bool:
            r = await rules.http.get("/api/v3/rule/name/pump-vibration-high/status")
            seen = r.json()["status"]["devices"].get("demo-pump", {})
            return seen.get("lastSample") == 46 * 5_000_000_000

        await wait_until(last_window_evaluated, timeout=15, message="rules saw the last score")
        await wait_until(lambda: [a.state for a in alerts] == ["raised", "cleared"], timeout=10)
    r = await rules.http.post("/api/v3/rule/dryrun", json={"name": "pump-vibration-high", "samples": scores})
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["samples"] == len(scores) == 40
    assert [_dry(a) for a in dry["alerts"]] == [_live(a) for a in alerts]
    assert len(core_command.requests) == 1  # the live raise's command only; the dry run sent none


async def test_dry_run_reads_scores_from_the_receiver_like_given_samples(
    nats_server, tmp_path, started, make_settings, core_command, alerts
):
    receiver = LiveReceiver(tmp_path, token="cloud-token")
    await receiver.start()
    try:
        values = [1, 9, 2, 9, 9, 12, 5, 4, 3, 9, 9]
        rows = []
        t0 = 1_700_000_000_000_000_000
        for seq, v in enumerate(values, start=1):
            payload = score_bytes("pump-1", v, seq)
            window_end = t0 + seq * 1_000_000_000  # what score_bytes puts in windowEnd
            rows.append(RecordRow("", "pump-1", seq, topics.score("pump-1"), seq, window_end + 1_000_000, "", payload))
        header = BatchHeader(batch_id="gw/score/1", gateway="gw", data_class=DataClass.SCORE, stream="EW_SYNC_SCORE")
        async with receiver.client("cloud-token") as c:
            headers = {"Content-Type": BATCH_CONTENT_TYPE, "Content-Encoding": "zstd", IDEMPOTENCY_HEADER: "gw/score/1"}
            resp = await c.post("/api/v3/sync/batch", content=encode_rows(header, rows), headers=headers)
            assert resp.status_code == 200 and resp.json()["accepted"] == len(values), resp.text
        token = tmp_path / "receiver-token"
        token.write_text("cloud-token\n")
        settings = make_settings()
        settings.dry_run = DryRunSection(receiver_url=receiver.url, receiver_token_file=str(token), page_size=4)
        svc = await started(settings)
        rng = {"source": "receiver", "start": t0 + 2 * 1_000_000_000, "end": t0 + 11 * 1_000_000_000}
        r = await svc.http.post("/api/v3/rule/dryrun", json={"rule": PUMP_RULE, "range": rng})
        assert r.status_code == 200, r.text
        fetched = r.json()
        given = [
            {"kind": "score", "device": "pump-1", "value": v, "t": t0 + seq * 1_000_000_000}
            for seq, v in enumerate(values, start=1)
            if 2 <= seq <= 11
        ]
        r = await svc.http.post("/api/v3/rule/dryrun", json={"rule": PUMP_RULE, "samples": given})
        assert r.status_code == 200, r.text
        from_request = r.json()
    finally:
        await receiver.stop()
    assert fetched["samples"] == from_request["samples"] == 10
    # PUMP_RULE: > 8 for 2 scores, clear at <= 4 for 1: 9 2 9 9 -> raise at the 2nd 9; 12 5 4 -> clear at 4;
    # 3 9 9 -> raise again
    got = [(a["state"], a["value"], a["t"]) for a in fetched["alerts"]]
    assert got == [
        ("raised", 9.0, t0 + 5 * 1_000_000_000),
        ("cleared", 4.0, t0 + 8 * 1_000_000_000),
        ("raised", 9.0, t0 + 11 * 1_000_000_000),
    ]
    assert [_dry(a) for a in fetched["alerts"]] == [_dry(a) for a in from_request["alerts"]]
    assert [a["actions"][0]["command"] for a in fetched["alerts"] if a["state"] == "raised"] == ["PumpStop"] * 2
    assert core_command.requests == [] and alerts == []  # nothing acted, nothing was published


async def test_dry_run_requests_are_checked(make_settings, started):
    settings = make_settings()
    settings.dry_run = DryRunSection(core_data_url=f"http://127.0.0.1:{free_port()}", timeout=2)  # nobody there
    svc = await started(settings)
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    sample = [{"kind": "score", "device": "pump-1", "value": 9, "t": 1}]
    cases = [
        ({"name": "pump-high", "rule": PUMP_RULE, "samples": sample}, 400, "name: give a stored rule's name or"),
        ({"name": "pump-high"}, 400, "samples: give samples or a range"),
        ({"name": "nope", "samples": sample}, 404, "nope"),
        ({"name": "pump-high", "samples": [{"kind": "score", "value": 1, "t": 1}]}, 400, "samples.0.device"),
        ({"name": "pump-high", "range": {"start": 5, "end": 1}}, 400, "end: 1 is before start 5"),
        ({"name": "pump-high", "range": {"start": 0, "end": 1}}, 400, "core-data holds EdgeX events only"),
        ({"rule": {**PUMP_RULE, "source": {"kind": "reading", "name": "X"}}, "range": {"end": 1}}, 400, "start"),
    ]
    for body, status, text in cases:
        r = await svc.http.post("/api/v3/rule/dryrun", json=body)
        assert r.status_code == status and text in r.json()["message"], (body, r.text)
    # a source that does not answer is a 503, not a hang
    reading_rule = {**PUMP_RULE, "source": {"kind": "reading", "device": "pump-1", "name": "Current"}}
    r = await svc.http.post("/api/v3/rule/dryrun", json={"rule": reading_rule, "range": {"start": 0, "end": 1}})
    assert r.status_code == 503, r.text
    # given samples with a score of 9 twice: the stored rule (count 2) raises once, and nothing is sent
    twice = [{"kind": "score", "device": "pump-1", "value": 9, "t": t} for t in (1, 2)]
    r = await svc.http.post("/api/v3/rule/dryrun", json={"name": "pump-high", "samples": twice})
    doc = r.json()
    assert doc["statusCode"] == 200 and [a["state"] for a in doc["alerts"]] == ["raised"]
    assert doc["actions"][0]["device"] == "pump-1" and doc["actions"][0]["t"] == 2
    status = (await svc.http.get("/api/v3/rule/name/pump-high/status")).json()["status"]
    assert status["raises"] == 0 and status["devices"] == {}
