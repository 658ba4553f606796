"""The compound rule schema over REST: the single-condition form stays valid, the plant rule round-trips, and
every malformed compound rule is a 400 naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.rules.conftest import PUMP_RULE

# The plant rule of the README: score above 8 AND motor current above 12 A for 5 s -> stop the pump, wait 2 s,
# close the valve, confirm both by reading them back; do not act again within 10 minutes.
PLANT_RULE: dict[str, Any] = {
    "name": "pump-trip",
    "condition": {
        "all": [
            {"source": {"kind": "score", "device": "pump-1"}, "comparator": ">", "threshold": 8, "clearThreshold": 6},
            {
                "source": {"kind": "reading", "device": "pump-1", "name": "Current"},
                "comparator": ">",
                "threshold": 12,
                "clearThreshold": 11,
                "debounce": {"seconds": 5},
                "maxAge": 10,
            },
        ]
    },
    "unknown": "hold",
    "cooldown": {"seconds": 600},
    "severity": "critical",
    "onActionFailure": "stop",
    "actions": [
        {"device": "pump-1", "command": "PumpStop", "settings": {"PumpStop": True}, "confirm": {}},
        {
            "device": "valve-1",
            "command": "ValveOpen",
            "settings": {"ValveOpen": False},
            "delay": 2,
            "confirm": {"within": 5},
        },
    ],
}


def _with(path: list[Any], value: Any, base: dict[str, Any] = PLANT_RULE) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    at: Any = doc
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value
    return doc


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"source": {"kind": "score"}, "comparator": ">", "threshold": 1}
    for _ in range(depth):
        node = {"not": node}
    return node


LEAF = {"source": {"kind": "score"}, "comparator": ">", "threshold": 1}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (_with(["condition"], _nested(5)), "nested deeper than 4"),
        (_with(["condition"], {"all": [LEAF], "comparator": ">"}), "all: a group takes no comparator"),
        (_with(["condition"], {"all": [LEAF], "any": [LEAF]}), "not all and any"),
        (_with(["condition"], {"all": []}), "condition.all"),
        (_with(["condition"], {"all": [LEAF] * 17}), "condition.all"),
        (_with(["condition"], {"any": [{"all": [LEAF] * 9}, {"all": [LEAF] * 8}]}), "17 comparisons"),
        (_with(["condition", "all", 0, "comparator"], "=="), "condition.all.0.comparator"),
        (_with(["condition", "all", 1, "clearThreshold"], 13), "clearThreshold"),
        (_with(["condition"], {"all": [{"comparator": ">", "threshold": 1}]}), "has no source"),
        (_with(["condition", "all", 0, "window"], {"aggregate": "rate"}), "rate compares"),
        (_with(["condition", "all", 0, "maxAge"], 0), "maxAge"),
        (_with(["window"], {"aggregate": "mean", "samples": 3}), "window: a compound condition"),
        (_with(["unknown"], "maybe"), "unknown"),
        (_with(["cooldown"], {"seconds": 0}), "cooldown.seconds"),
        (_with(["actions", 1, "delay"], -1), "actions.1.delay"),
        (_with(["actions", 0, "settings"], {"PumpStop": True, "Speed": 0}), "confirm.resource"),
        (_with(["actions", 0, "confirm"], {"resource": "Speed"}), "confirm.value"),
        (_with(["onActionFailure"], "retry"), "onActionFailure"),
        ({**PUMP_RULE, "condition": {**PUMP_RULE["condition"], "window": {"samples": 2}}}, "condition.window"),
        ({**PUMP_RULE, "source": None}, "source: required for a single condition"),
        ({**PUMP_RULE, "window": {"aggregate": "delta", "samples": 1}}, "delta compares"),
    ],
)
async def test_invalid_compound_rule_is_rejected_with_400_naming_the_field(make_settings, started, doc, field):
    svc = await started(make_settings())
    r = await svc.http.post("/api/v3/rule/validate", json=doc)
    assert r.status_code == 400, r.text
    assert field in r.json()["message"]
    assert (await svc.http.post("/api/v3/rule", json=doc)).status_code == 400


async def test_plant_rule_round_trips_and_single_form_keeps_its_shape(make_settings, started):
    svc = await started(make_settings())
    assert (await svc.http.post("/api/v3/rule", json=PLANT_RULE)).status_code == 201
    stored = (await svc.http.get("/api/v3/rule/name/pump-trip")).json()["rule"]
    assert stored["condition"]["all"][1]["debounce"]["seconds"] == 5
    assert stored["actions"][1]["delay"] == 2 and stored["cooldown"] == {"seconds": 600.0}
    # what GET returns is itself a valid rule (stored files and PUT round-trip it)
    assert (await svc.http.put("/api/v3/rule/name/pump-trip", json=stored)).status_code == 200
    assert (await svc.http.get("/api/v3/rule/name/pump-trip")).json()["rule"] == stored
    # the single-condition form: no tree keys appear in its condition
    assert (await svc.http.post("/api/v3/rule", json=PUMP_RULE)).status_code == 201
    single = (await svc.http.get("/api/v3/rule/name/pump-high")).json()["rule"]
    assert single["condition"] == {"comparator": ">", "threshold": 8.0, "clearThreshold": 4.0}
