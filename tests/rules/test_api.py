"""Rules REST: CRUD, validate, run states, 400s naming the field, seed files and persistence across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.conftest import PUMP_RULE, feed
from tests.support.waiting import wait_until


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": "bad.name"}, "name"),
        ({"name": None}, "name"),
        ({"source": {"kind": "vibes"}}, "source.kind"),
        ({"source": {"kind": "feature", "device": "p"}}, "name: required for kind feature"),
        ({"condition": {"comparator": "==", "threshold": 1}}, "condition.comparator"),
        ({"condition": {"comparator": ">", "threshold": 8, "clearThreshold": 9}}, "clearThreshold"),
        ({"condition": {"comparator": "<", "threshold": 8, "clearThreshold": 2}}, "clearThreshold"),
        ({"condition": {"comparator": ">", "threshold": "eight"}}, "condition.threshold"),
        ({"debounce": {"count": 0}}, "debounce.count"),
        ({"window": {"aggregate": "median"}}, "window.aggregate"),
        ({"actions": [{"command": "PumpStop", "settings": {}}]}, "actions.0.settings"),
        ({"actions": [{"command": "Pump.Stop", "settings": {"a": "1"}}]}, "actions.0"),
        ({"stale": {"seconds": 0}}, "stale.seconds"),
        ({"evalExpression": "__import__('os')"}, "evalExpression"),
    ],
)
async def test_invalid_rule_is_rejected_with_400_naming_the_field(make_settings, started, patch, field):
    svc = await started(make_settings())
    for path in ("/api/v3/rule", "/api/v3/rule/validate"):
        r = await svc.http.post(path, json={**PUMP_RULE, **patch})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["statusCode"] == 400 and field in body["message"]
    assert (await svc.http.get("/api/v3/rule")).json()["totalCount"] == 0


async def test_malformed_json_body_is_400(make_settings, started):
    svc = await started(make_settings())
    r = await svc.http.post("/api/v3/rule", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["message"]


async def test_rule_crud_and_run_states(make_settings, started):
    svc = await started(make_settings())
    assert (await svc.http.post("/api/v3/rule/validate", json=PUMP_RULE)).json()["valid"] is True
    assert (await svc.http.post("/api/v3/rule", json=PUMP_RULE)).status_code == 201
    assert (await svc.http.post("/api/v3/rule", json=PUMP_RULE)).status_code == 409
    got = (await svc.http.get("/api/v3/rule/name/pump-high")).json()
    assert got["rule"]["condition"]["clearThreshold"] == 4.0 and got["status"]["state"] == "running"
    changed = {**PUMP_RULE, "severity": "minor"}
    assert (await svc.http.put("/api/v3/rule/name/pump-high", json=changed)).status_code == 200
    r = await svc.http.put("/api/v3/rule/name/other", json=changed)
    assert r.status_code == 400 and "name" in r.json()["message"]
    stopped = (await svc.http.post("/api/v3/rule/name/pump-high/stop")).json()["status"]
    assert stopped["state"] == "stopped"
    assert (await svc.http.post("/api/v3/rule/name/pump-high/start")).json()["status"]["state"] == "running"
    assert (await svc.http.get("/api/v3/rule")).json()["rules"][0]["rule"]["severity"] == "minor"
    assert (await svc.http.delete("/api/v3/rule/name/pump-high")).status_code == 200
    assert (await svc.http.get("/api/v3/rule/name/pump-high")).status_code == 404
    assert (await svc.http.delete("/api/v3/rule/name/pump-high")).status_code == 404
    assert (await svc.http.post("/api/v3/rule/name/nope/start")).status_code == 404


async def test_stopped_rule_does_not_evaluate(make_settings, started, core_command, alerts, bus):
    svc = await started(make_settings())
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await svc.http.post("/api/v3/rule", json={**PUMP_RULE, "name": "witness", "actions": []})
    await svc.http.post("/api/v3/rule/name/pump-high/stop")
    await feed(bus, "pump-1", [9, 9])
    await wait_until(lambda: [a.rule for a in alerts] == ["witness"])
    assert core_command.requests == []


def _seed(tmp_path: Path) -> str:
    f = tmp_path / "seed.yaml"
    f.write_text(
        "name: seeded\nsource: {kind: score, device: demo-pump}\n"
        "condition: {comparator: '>', threshold: 8, clearThreshold: 4}\n"
        "actions: [{device: demo-pump, command: PumpStop, settings: {PumpStop: true}}]\n"
    )
    return str(f)


async def test_seed_rules_load_once_and_rest_changes_survive_restart(make_settings, started, tmp_path):
    settings = make_settings(files=[_seed(tmp_path)])
    svc = await started(settings)
    got = (await svc.http.get("/api/v3/rule/name/seeded")).json()
    assert got["rule"]["actions"][0]["settings"] == {"PumpStop": "true"}
    await svc.http.post("/api/v3/rule", json=PUMP_RULE)
    await svc.http.post("/api/v3/rule/name/pump-high/stop")
    await svc.http.delete("/api/v3/rule/name/seeded")
    await svc.host.__aexit__(None, None, None)
    again = await started(make_settings(files=[_seed(tmp_path)]))
    rules = (await again.http.get("/api/v3/rule")).json()["rules"]
    assert [(r["rule"]["name"], r["status"]["state"]) for r in rules] == [("pump-high", "stopped")]


async def test_invalid_seed_file_fails_startup_naming_file_rule_and_field(make_settings, started, tmp_path):
    from edgewatch.rules.store import RuleFileError

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nsource: {kind: score}\ncondition: {comparator: '>', threshold: x}\n")
    with pytest.raises(RuleFileError, match=r"bad.yaml: rule broken: condition.threshold"):
        await started(make_settings(files=[str(bad)]))


def test_demo_rule_file_is_valid_and_stops_the_demo_pump() -> None:
    from edgewatch.common.service.settings import load_settings
    from edgewatch.rules.config import RulesSettings
    from edgewatch.rules.store import load_rule_file

    res = Path(__file__).resolve().parents[2] / "services" / "rules" / "res"
    settings = load_settings(RulesSettings, res / "configuration.yaml", env={})
    (rule,) = [r for f in settings.rule_files() for r in load_rule_file(f)]
    assert (rule.name, rule.source.kind, rule.source.device) == ("pump-vibration-high", "score", "demo-pump")
    assert rule.condition.clear < rule.condition.threshold and rule.debounce.count == 2
    assert [(a.device, a.command, a.settings) for a in rule.actions] == [
        ("demo-pump", "PumpStop", {"PumpStop": "true"})
    ]
