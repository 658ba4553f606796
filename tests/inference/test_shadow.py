"""Shadow scoring, promotion, probation with automatic rollback, windowed models and persistence, through the
real service: a real nats-server, real ONNX Runtime, the real app over HTTP. Every Score is counted."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.score import Score, decode_score
from edgewatch.inference.baseline import build_standardized_distance, reference_score
from tests.inference.conftest import NAMES, vector
from tests.inference.windowed import windowed_distance
from tests.support.waiting import wait_until

PROBE = [1.1, 3.5, 42.0]
MEAN = [1.0, 3.0, 40.0]


def _body(version: str, std: list[float], **more: object) -> dict:
    model = build_standardized_distance(NAMES, np.asarray(MEAN), np.asarray(std))
    expected = reference_score(np.asarray(PROBE), np.asarray(MEAN), np.asarray(std))
    return {
        "name": "m",
        "version": version,
        "inputNames": NAMES,
        "threshold": 5.0,
        "golden": {"input": PROBE, "expectedScore": expected},
        "model": base64.b64encode(model).decode(),
        **more,
    }


def _decoded(msgs: list) -> list[Score]:  # type: ignore[type-arg]
    return [decode_score(m.data) for m in msgs]


async def test_shadow_is_promoted_when_criteria_pass_then_rolled_back_in_probation_and_no_score_is_lost(
    make_settings, started, collector, bus: NatsBus
):
    svc = await started(
        make_settings(
            auto_fit=False,
            shadow_min_vectors=20,
            shadow_max_alarm_rate_diff=0.1,
            shadow_min_agreement=0.9,
            probation_vectors=40,
            probation_min_vectors=10,
            probation_max_alarm_rate_diff=0.2,
        )
    )
    scores = await collector(topics.score_all())
    shadows = await collector(topics.shadow_score_all())
    assert (await svc.http.post("/api/v3/model", json=_body("1", [0.1, 0.5, 2.0]))).status_code == 201
    # v2 watches Temperature.mean 20x closer: the same on the steady data, alarming when temperature drifts 1 degree
    r = await svc.http.post("/api/v3/model", json=_body("2", [0.1, 0.5, 0.1], shadow=True, activate=False))
    assert r.status_code == 201, r.text
    status = (await svc.http.get("/api/v3/model/shadow")).json()
    assert status["shadows"][0]["model"] == {"name": "m", "version": "2"} and status["shadows"][0]["ready"] is False
    refused = await svc.http.post("/api/v3/model/promote", json={})
    assert refused.status_code == 409 and "ShadowMinVectors 20" in refused.json()["message"]

    rng = np.random.default_rng(3)
    seq = 0

    async def send(n: int, temperature: float) -> None:
        nonlocal seq
        for _ in range(n):
            values = [1.0 + rng.normal(0, 0.02), 3.0 + rng.normal(0, 0.1), temperature]
            await bus.publish(topics.feature_vector("p1"), vector("p1", values, seq=seq))
            seq += 1

    await send(20, 40.0)  # exactly ShadowMinVectors: the criteria pass after the 20th, never earlier
    await wait_until(lambda: len(scores) == 20 and len(shadows) == 20)
    # the promotion happens at the end of the batch that completes the 20th comparison, before its scores go out
    events = [e["event"] for e in (await svc.http.get("/api/v3/model/shadow")).json()["history"]]
    assert events == ["shadowStarted", "promoted"]
    active = (await svc.http.get("/api/v3/model/active")).json()
    assert active["slots"][0]["current"]["version"] == "2" and active["probations"][0]["referenceAlarmRate"] == 0.0

    await send(30, 41.0)  # v2 alarms on every one of these, v1 did not alarm during the shadow run: roll back
    await wait_until(lambda: len(scores) == 50)
    await send(10, 40.0)
    await wait_until(lambda: len(scores) == 60)

    got = _decoded(scores)
    assert [s.sequence for s in got] == list(range(1, 61))  # none dropped, none twice, in order
    assert len({s.window_start for s in got}) == 60
    versions = [s.model_version for s in got]
    k = versions.count("2")
    assert versions == ["1"] * 20 + ["2"] * k + ["1"] * (40 - k) and 10 <= k <= 30
    assert all(s.is_anomaly and s.over_threshold for s in got[20 : 20 + k])
    assert not any(s.is_anomaly for s in got[:20] + got[20 + k + (30 - k) :])
    shadow_got = _decoded(shadows)
    assert [s.model_version for s in shadow_got] == ["2"] * 20 and [s.sequence for s in shadow_got] == list(
        range(1, 21)
    )
    status = (await svc.http.get("/api/v3/model/shadow")).json()
    assert [e["event"] for e in status["history"]] == ["shadowStarted", "promoted", "rolledBack"]
    assert "ProbationMaxAlarmRateDiff 0.2" in status["history"][-1]["reason"] and status["probations"] == []
    active = (await svc.http.get("/api/v3/model/active")).json()["slots"][0]
    assert (active["current"]["version"], active["previous"]["version"]) == ("1", "2")
    reg = svc.host.metrics.registry
    assert reg.get_sample_value("edgewatch_inference_model_swaps_total", {"op": "auto-rollback"}) == 1
    assert reg.get_sample_value("edgewatch_inference_shadow_scores_total") == 20


async def test_windowed_model_with_persistence_scores_full_windows_and_holds_the_alarm(
    make_settings, started, collector, bus: NatsBus
):
    svc = await started(make_settings(auto_fit=False))
    names = NAMES
    model = windowed_distance(3, 3, MEAN, [0.1, 0.5, 2.0])
    body = {
        "name": "win",
        "version": "1",
        "inputNames": names,
        "threshold": 5.0,
        "window": 3,
        "algorithm": "test-windowed-distance",
        "thresholdMethod": "quantile",
        "calibration": {"n": 1000, "quantile": 0.999, "scoreMax": 4.2, "trainedOn": "skab-anomaly-free"},
        "persistence": {"raise": 2, "clear": 2},
        "golden": {"input": [MEAN, MEAN, MEAN], "expectedScore": 0.0},
        "model": base64.b64encode(model).decode(),
    }
    bad = await svc.http.post("/api/v3/model", json={**body, "version": "0", "window": 4})
    assert bad.status_code == 400 and "input window 3 != 4 declared window (input 'input'" in bad.json()["message"]
    assert (await svc.http.post("/api/v3/model", json=body)).status_code == 201
    current = (await svc.http.get("/api/v3/model/active")).json()["slots"][0]["current"]
    assert (current["window"], current["thresholdMethod"], current["persistence"]) == (
        3,
        "quantile",
        {"raise": 2, "clear": 2},
    )
    assert current["calibration"]["trainedOn"] == "skab-anomaly-free" and current["calibration"]["scoreMax"] == 4.2
    assert current["requestedProviders"][-1] == "CPUExecutionProvider" and current["cpuFallback"] is False
    scores = await collector(topics.score("w1"))
    hot = [2.0, 3.0, 40.0]  # vibration 10 sigma out: a window holding one of these scores (10/3)^2/3 = 3.7
    rows = [MEAN, MEAN, hot, hot, hot, MEAN, MEAN, MEAN, MEAN, MEAN]
    for i, row in enumerate(rows):
        await bus.publish(topics.feature_vector("w1"), vector("w1", row, seq=i))
    await wait_until(lambda: len(scores) == len(rows) - 2)  # the first two vectors only fill the window
    got = _decoded(scores)
    over = [bool(s.over_threshold) for s in got]
    assert over == [False, True, True, True, False, False, False, False]  # windows holding 2 or 3 hot rows
    assert [s.is_anomaly for s in got] == [False, False, True, True, True, False, False, False]  # raise 2, clear 2
    assert got[0].score == pytest.approx(((1 / 3) * 10) ** 2 / 3, rel=1e-4)
