"""The models page's judgement of a shadow's promotion criteria and of a refused promotion, checked against the
inference service's own ShadowRun verdicts and its 409 message (no service needed)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from edgewatch.console.modelview import criteria_checks, refusal_reasons
from edgewatch.inference.config import InferenceSection
from edgewatch.inference.errors import ShadowConflictError
from edgewatch.inference.shadow import ShadowRun

CFG = InferenceSection()


def _run(pairs: list[tuple[bool, bool]]) -> ShadowRun:
    model = cast(Any, SimpleNamespace(meta=SimpleNamespace(name="m", version="2")))
    run = ShadowRun(model, "pump")
    for serving, shadow in pairs:
        run.add(serving, shadow)
    return run


def _criteria() -> dict[str, Any]:
    c = CFG
    return {
        "shadowMinVectors": c.shadow_min_vectors,
        "shadowMaxAlarmRateDiff": c.shadow_max_alarm_rate_diff,
        "shadowMinAgreement": c.shadow_min_agreement,
    }


def test_each_criterion_is_judged_as_the_service_judges_it() -> None:
    few = _run([(False, False)] * 10 + [(False, True)] * 2)  # 12 vectors, shadow alarms on 2 the serving one does not
    checks = {c["key"]: c for c in criteria_checks(few.view(CFG), _criteria())}
    assert list(checks) == ["golden", "vectors", "alarmRateDiff", "agreement"]
    assert checks["golden"]["passed"] is True
    assert checks["vectors"]["value"] == 12 and checks["vectors"]["passed"] is False
    assert checks["alarmRateDiff"]["value"] == 2 / 12 and checks["alarmRateDiff"]["passed"] is False
    assert checks["agreement"]["value"] == 10 / 12 and checks["agreement"]["passed"] is False
    assert len(few.verdict(CFG).reasons) == 3  # the service names the same three

    n = CFG.shadow_min_vectors
    good = _run([(False, False)] * n)
    assert all(c["passed"] for c in criteria_checks(good.view(CFG), _criteria()))
    assert good.verdict(CFG).passed


def test_without_the_configured_criteria_only_the_golden_check_is_judged() -> None:
    checks = criteria_checks(_run([]).view(CFG), {})
    assert [c["key"] for c in checks] == ["golden"]


def test_a_refused_promotion_lists_each_failing_criterion() -> None:
    reasons = _run([(False, True)] * 3).verdict(CFG).reasons
    message = ShadowConflictError("demo-pump", ["not promoted", *reasons]).message
    got = refusal_reasons(message)
    assert got == reasons and len(got) == 3
    assert got[0].startswith("3 of ShadowMinVectors")
