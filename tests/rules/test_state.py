"""Rule semantics as tables: hysteresis, debounce (count and hold time), clear debounce, window aggregates."""

from __future__ import annotations

import pytest

from edgewatch.rules.rule import Rule
from edgewatch.rules.state import AlertState, Criteria, DeviceState

S = 1_000_000_000


def _rule(**over: object) -> Rule:
    doc: dict[str, object] = {
        "name": "r",
        "source": {"kind": "score"},
        "condition": {"comparator": ">", "threshold": 8},
    }
    doc.update(over)
    return Rule.model_validate(doc)


def _run(rule: Rule, values: list[float], dt: float = 1.0) -> str:
    """One letter per sample: R raise, C clear, . nothing."""
    ds, out = DeviceState(), []
    for i, v in enumerate(values):
        tr = ds.update(Criteria.of(rule), v, int(i * dt * S))
        out.append("." if tr is None else "R" if tr.state is AlertState.RAISED else "C")
    return "".join(out)


@pytest.mark.parametrize(
    ("condition", "debounce", "values", "expected"),
    [
        # plain threshold: raise on the first sample above, clear on the first not above
        ({"comparator": ">", "threshold": 8}, {}, [1, 9, 9, 7, 9], ".R.CR"),
        ({"comparator": ">", "threshold": 8}, {}, [8, 8.01, 8], ".RC"),
        ({"comparator": ">=", "threshold": 8}, {}, [7.99, 8, 7.99], ".RC"),
        # hysteresis: between clear (4) and threshold (8) nothing changes in either state
        ({"comparator": ">", "threshold": 8, "clearThreshold": 4}, {}, [9, 6, 5, 4.5, 4, 6, 9], "R...C.R"),
        ({"comparator": ">", "threshold": 8, "clearThreshold": 4}, {}, [6, 7, 7.9, 3], "...."),
        # below-comparators mirror it: raise under 10, clear only back above 15
        ({"comparator": "<", "threshold": 10, "clearThreshold": 15}, {}, [20, 9, 12, 14, 16, 9], ".R..CR"),
        ({"comparator": "<=", "threshold": 10}, {}, [11, 10, 10.5], ".RC"),
        # debounce count: 2 consecutive above; an interruption restarts the count
        ({"comparator": ">", "threshold": 8}, {"count": 2}, [9, 7, 9, 9, 9], "...R."),
        ({"comparator": ">", "threshold": 8}, {"count": 3}, [9, 9, 1, 9, 9, 9], ".....R"),
        # clear debounce: 2 consecutive past the clear threshold
        ({"comparator": ">", "threshold": 8}, {"clearCount": 2}, [9, 1, 9, 1, 1], "R...C"),
        # hold time: above for at least 2 s of sample time (samples 1 s apart -> third sample)
        ({"comparator": ">", "threshold": 8}, {"seconds": 2}, [9, 9, 9, 9], "..R."),
        ({"comparator": ">", "threshold": 8}, {"seconds": 2, "count": 4}, [9, 9, 9, 9], "...R"),
    ],
)
def test_rule_state_transitions(condition: dict, debounce: dict, values: list[float], expected: str) -> None:
    assert _run(_rule(condition=condition, debounce=debounce), values) == expected


@pytest.mark.parametrize(
    ("window", "values", "expected"),
    [
        # mean of the last 3 samples must exceed 8; nothing is decided before the window holds 3 samples
        ({"aggregate": "mean", "samples": 3}, [12, 1, 1, 12, 12, 12], "....R."),
        ({"aggregate": "max", "samples": 3}, [9, 1, 1, 1], "..RC"),
        ({"aggregate": "min", "samples": 2}, [9, 1, 9, 9], "...R"),
        # time window: samples 1 s apart, 2 s window keeps 3 samples (t-2s inclusive)
        ({"aggregate": "mean", "seconds": 2}, [0, 0, 30, 0, 0, 0], "..R..C"),
    ],
)
def test_rule_window_aggregates(window: dict, values: list[float], expected: str) -> None:
    assert _run(_rule(window=window), values) == expected


def test_rule_transition_reports_aggregate_and_threshold() -> None:
    rule = _rule(condition={"comparator": ">", "threshold": 8, "clearThreshold": 4}, debounce={"count": 2})
    ds, c = DeviceState(), Criteria.of(rule)
    assert ds.update(c, 9, 0) is None
    raised = ds.update(c, 10, S)
    assert raised is not None and (raised.value, raised.threshold, raised.samples) == (10, 8, 2)
    cleared = ds.update(c, 3, 2 * S)
    assert cleared is not None and (cleared.state, cleared.threshold) == (AlertState.NORMAL, 4)
