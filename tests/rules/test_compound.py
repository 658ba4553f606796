"""Compound rules as tables: all / any / not with leaf hysteresis, staleness and the unknown policy, tree debounce,
leaves on several devices, rates of change and deltas, and the cooldown."""

from __future__ import annotations

from typing import Any

import pytest

from edgewatch.rules.engine import RuleEngine
from edgewatch.rules.rule import Rule

S = 1_000_000_000
SCORE = {"kind": "score", "device": "*"}
CURRENT = {"kind": "reading", "device": "*", "name": "Current"}
STOPPED = {"kind": "reading", "device": "*", "name": "PumpStop"}


def leaf(source: dict[str, Any], comparator: str, threshold: float, **over: Any) -> dict[str, Any]:
    return {"source": source, "comparator": comparator, "threshold": threshold, **over}


def rule(condition: dict[str, Any], **over: Any) -> Rule:
    return Rule.model_validate({"name": "r", "condition": condition, **over})


Step = tuple[str, float, float]  # (leaf key, value, seconds); key: s=score c=Current p=PumpStop m=meter Power


def run(r: Rule, steps: list[Step], device: str = "pump-1") -> str:
    """One letter per sample: R raise, C clear, . nothing (threshold alerts only)."""
    where = {
        "s": ("score", ""),
        "c": ("reading", "Current"),
        "p": ("reading", "PumpStop"),
        "m": ("reading", "Power"),
    }
    engine = RuleEngine(clock=lambda: 0.0)
    engine.add(r)
    out = []
    for key, value, sec in steps:
        kind, name = where[key]
        dev = "meter" if key == "m" else device
        ds = [d for d in engine.on_sample(kind, dev, name, value, int(sec * S)) if d.kind == "threshold"]  # type: ignore[arg-type]
        out.append("".join("R" if d.state.value == "raised" else "C" for d in ds) or ".")
    return "".join(out)


def steps(text: str) -> list[Step]:
    """``"s9 c13 c11"`` -> samples one second apart."""
    return [(tok[0], float(tok[1:]), float(i)) for i, tok in enumerate(text.split())]


ALL = {"all": [leaf(SCORE, ">", 8, clearThreshold=4), leaf(CURRENT, ">", 12)]}
ANY = {"any": [leaf(SCORE, ">", 8), leaf(CURRENT, ">", 12)]}
ALL_NOT = {"all": [leaf(SCORE, ">", 8), {"not": leaf(STOPPED, ">", 0.5)}]}


@pytest.mark.parametrize(
    ("condition", "samples", "expected"),
    [
        # all: raises only once both hold; clears as soon as one stops holding
        (ALL, "s9 c11 c13 c11 c13", "..RCR"),
        # leaf hysteresis: the score leaf stays true down to its clear threshold 4, so the rule stays raised
        (ALL, "s9 c13 s6 s5 s4 s9", ".R..CR"),
        # nothing known about Current yet: all() is unknown, and unknown holds (no raise, no clear)
        (ALL, "s9 s9 s9", "..."),
        # any: one true leaf raises, the rule clears only when no leaf holds
        (ANY, "s1 c13 s9 c1 s1", ".R..C"),
        # any(true, unknown) is true: a leaf never seen does not block the other; any(false, unknown) is
        # unknown, which holds: the rule stays raised until Current is known (and false)
        (ANY, "s9 s1 c1", "R.C"),
        # any(false, unknown) is unknown: held
        (ANY, "s1 s1", ".."),
        # not: raise while the score is high and the pump is NOT stopped; stopping it clears
        (ALL_NOT, "p0 s9 p1 p0", ".RCR"),
        # not(unknown) is unknown: the PumpStop leaf must be known first
        (ALL_NOT, "s9 s9 p0", "..R"),
        # nested: any(all(score>8, current>12), not(pump stopped)): true while the pump runs; once it is stopped
        # the all() is unknown (nothing known yet) and holds, then true, then false with the pump still stopped
        ({"any": [ALL, {"not": leaf(STOPPED, ">", 0.5)}]}, "p0 p1 s9 c13 c1", "R...C"),
    ],
)
def test_compound_condition_truth_table(condition: dict, samples: str, expected: str) -> None:
    assert run(rule(condition), steps(samples)) == expected


# Staleness: Current is stale 2 s after its last sample (sample time); stale data is unknown.
STALE_ALL = {"all": [leaf(SCORE, ">", 8, clearThreshold=4), leaf(CURRENT, ">", 12, maxAge=2)]}
STALE_TIMES = [("c", 13, 0), ("s", 9, 1), ("s", 9, 5), ("s", 3, 6), ("c", 13, 7), ("s", 9, 8)]


@pytest.mark.parametrize(
    ("unknown", "expected"),
    [
        # hold (default): t=0 the score is unknown (no raise); t=1 raise; t=5 Current is stale: all(true, unknown)
        # is unknown and the rule stays raised; t=6 all(false, unknown) is false: clear; t=8 both true again
        ("hold", ".R.C.R"),
        # raise: unknown counts as true, so t=0 already raises (score never seen); the rest as with hold
        ("raise", "R..C.R"),
        # clear: unknown counts as false: the stale Current clears the rule at t=5
        ("clear", ".RC..R"),
    ],
)
def test_compound_stale_leaf_is_unknown_and_the_rule_says_what_unknown_means(unknown: str, expected: str) -> None:
    assert run(rule(STALE_ALL, unknown=unknown), STALE_TIMES) == expected


@pytest.mark.parametrize(
    ("unknown", "samples", "expected"),
    [
        # any(score>8, current>12) with a stale Current: any(false, unknown) = unknown
        ("hold", [("c", 13, 0), ("s", 1, 5), ("s", 1, 6)], "R.."),
        ("clear", [("c", 13, 0), ("s", 1, 5), ("s", 1, 6)], "RC."),
        # raise on unknown: the score never seen raises at t=0; the stale Current keeps it raised at t=5;
        # both known and false at t=6: clear
        ("raise", [("c", 1, 0), ("s", 1, 5), ("c", 1, 6)], "R.C"),
    ],
)
def test_compound_any_with_stale_leaf_follows_unknown_policy(unknown: str, samples: list[Step], expected: str) -> None:
    cond = {"any": [leaf(SCORE, ">", 8), leaf(CURRENT, ">", 12, maxAge=2)]}
    assert run(rule(cond, unknown=unknown), samples) == expected


def test_compound_leaf_max_age_defaults_to_the_rules_stale_seconds() -> None:
    r = rule({"all": [leaf(SCORE, ">", 8), leaf(CURRENT, ">", 12)]}, unknown="clear", stale={"seconds": 2})
    assert run(r, [("c", 13, 0), ("s", 9, 1), ("s", 9, 5)]) == ".RC"


@pytest.mark.parametrize(
    ("debounce", "samples", "expected"),
    [
        # the tree must hold for 2 consecutive evaluations (any leaf's sample is an evaluation); an
        # interruption restarts the count
        ({"count": 2}, "s9 c13 c13 c1 c13 c13", "..RC.R"),
        # ...and clear after 2 consecutive evaluations without it
        ({"count": 1, "clearCount": 2}, "s9 c13 c1 c13 c1 c1", ".R...C"),
        # hold time on the tree: 2 s of sample time
        ({"seconds": 2}, "s9 c13 c13 c13", "...R"),
    ],
)
def test_compound_rule_debounce_applies_to_the_tree(debounce: dict, samples: str, expected: str) -> None:
    assert run(rule(ALL, debounce=debounce), steps(samples)) == expected


def test_compound_leaf_has_its_own_window_and_debounce() -> None:
    cond = {
        "all": [
            leaf(SCORE, ">", 8),
            # "motor current above 12 A for 2 s", as a mean over 2 samples
            leaf(CURRENT, ">", 12, window={"aggregate": "mean", "samples": 2}, debounce={"seconds": 2}),
        ]
    }
    # Current mean over 2 samples: t=1 undecided (one sample), t=2 12.5 (above, held 0 s), t=4 held 2 s: raise
    assert run(rule(cond), steps("s9 c12 c13 c13 c13 c13")) == "....R."


def test_compound_leaf_on_a_named_device_is_shared_by_every_device_instance() -> None:
    # per pump: score high AND the plant's power meter (one device for all pumps) above 100 kW
    cond = {"all": [leaf(SCORE, ">", 8), leaf({"kind": "reading", "device": "meter", "name": "Power"}, ">", 100)]}
    engine = RuleEngine(clock=lambda: 0.0)
    engine.add(rule(cond))
    got = []
    for kind, dev, name, v in [
        ("score", "pump-1", "", 9),
        ("score", "pump-2", "", 9),
        ("reading", "meter", "Power", 120),  # both pumps' instances raise
        ("reading", "other", "Power", 1),  # not the named device: ignored
        ("score", "pump-2", "", 1),
        ("reading", "meter", "Power", 50),  # pump-1 clears (pump-2 already has)
    ]:
        got += [(d.device, d.state.value) for d in engine.on_sample(kind, dev, name, v, 0)]  # type: ignore[arg-type]
    assert got == [("pump-1", "raised"), ("pump-2", "raised"), ("pump-2", "normal"), ("pump-1", "normal")]


def test_compound_rule_without_wildcard_leaves_has_one_instance_named_after_its_first_leaf() -> None:
    cond = {
        "all": [
            leaf({"kind": "score", "device": "pump-1"}, ">", 8),
            leaf({"kind": "reading", "device": "valve-1", "name": "Current"}, ">", 12),
        ]
    }
    engine = RuleEngine(clock=lambda: 0.0)
    engine.add(rule(cond))
    assert engine.on_sample("score", "pump-1", "", 9, 0) == []
    (d,) = engine.on_sample("reading", "valve-1", "Current", 13, S)
    assert (d.device, d.value, d.threshold) == ("pump-1", 13, 12)
    assert d.message == (
        "all(score of pump-1 = 9 (> 8: true), reading Current of valve-1 = 13 (> 12: true)) held for 1 evaluation(s)"
    )


@pytest.mark.parametrize(
    ("window", "values", "expected"),
    [
        # rate of change per second over the last 3 samples (1 s apart): (v[-1] - v[-3]) / 2 s > 8
        ({"aggregate": "rate", "samples": 3}, [0, 5, 10, 30, 31, 32], "...R.C"),
        # delta over a 2 s time window (samples 1 s apart -> 3 samples): newest - oldest > 8
        ({"aggregate": "delta", "seconds": 2}, [0, 9, 4, 20, 20, 20], ".RCR.C"),
        # a falling rate: raise on a drop faster than 8/s
        ({"aggregate": "rate", "samples": 2}, [100, 95, 80, 79], "..RC"),
    ],
)
def test_rule_rate_of_change_and_delta_windows(window: dict, values: list[float], expected: str) -> None:
    cmp = ("<", -8) if values[0] == 100 else (">", 8)
    doc = {
        "name": "r",
        "source": SCORE,
        "condition": {"comparator": cmp[0], "threshold": cmp[1]},
        "window": window,
    }
    r = Rule.model_validate(doc)
    assert run(r, [("s", v, float(i)) for i, v in enumerate(values)]) == expected


def test_rate_uses_sample_time_not_sample_count() -> None:
    r = Rule.model_validate(
        {
            "name": "r",
            "source": SCORE,
            "condition": {"comparator": ">", "threshold": 8},
            "window": {"aggregate": "rate", "samples": 2},
        }
    )
    # +10 over 2 s is 5/s (no raise); +10 over 0.5 s is 20/s (raise)
    assert run(r, [("s", 0, 0), ("s", 10, 2), ("s", 20, 2.5)]) == "..R"


@pytest.mark.parametrize("compound", [False, True])
def test_cooldown_keeps_alerts_but_holds_back_actions(compound: bool) -> None:
    action = {"command": "PumpStop", "settings": {"PumpStop": True}}
    if compound:
        r = rule({"all": [leaf(SCORE, ">", 8)]}, cooldown={"seconds": 10}, actions=[action])
    else:
        doc = {"name": "r", "source": SCORE, "condition": {"comparator": ">", "threshold": 8}}
        r = Rule.model_validate({**doc, "cooldown": {"seconds": 10}, "actions": [action]})
    engine = RuleEngine(clock=lambda: 0.0)
    engine.add(r)
    got = []
    for v, sec in [(9, 0), (1, 1), (9, 4), (1, 5), (9, 10), (1, 11), (9, 12)]:
        for d in engine.on_sample("score", "pump-1", "", v, int(sec * S)):
            got.append((sec, d.state.value, d.act, "cooldown" in d.message))
    assert got == [
        (0, "raised", True, False),  # acts; the cooldown starts
        (1, "normal", True, False),
        (4, "raised", False, True),  # 4 s after acting: alert only ("6s left")
        (5, "normal", True, False),
        (10, "raised", True, False),  # 10 s after the acting raise: acts again
        (11, "normal", True, False),
        (12, "raised", False, True),
    ]
