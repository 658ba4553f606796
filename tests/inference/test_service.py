"""edgewatch-inference end to end: real nats-server, real ONNX Runtime, the real app over HTTP."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.score import decode_score
from edgewatch.inference.app import SERVICE_NAME
from edgewatch.inference.baseline import build_standardized_distance
from edgewatch.inference.config import InferenceWritable
from tests.inference.conftest import NAMES, vector
from tests.support.waiting import wait_until

BASELINE = {
    "name": "pump-baseline",
    "version": "1",
    "inputNames": NAMES,
    "mean": [1.0, 3.0, 40.0],
    "std": [0.1, 0.5, 2.0],
    "threshold": 5.0,
}


async def test_inference_autofits_device_baseline_then_publishes_scores(
    make_settings, started, collector, bus: NatsBus
):
    svc = await started(make_settings(baseline_count=5, default_threshold=9.0))
    scores = await collector(topics.score("pump-1"))
    rng = np.random.default_rng(1)
    for i in range(5):
        await bus.publish(
            topics.feature_vector("pump-1"),
            vector("pump-1", list(np.array([1.0, 3.0, 40.0]) + rng.normal(0, 0.05, 3)), seq=i),
        )
    await wait_until(lambda: svc.host.metrics.registry.get_sample_value("edgewatch_inference_baseline_fits_total") == 1)
    assert scores == []
    await bus.publish(topics.feature_vector("pump-1"), vector("pump-1", [1.0, 3.0, 40.0], seq=5))
    await bus.publish(topics.feature_vector("pump-1"), vector("pump-1", [3.0, 9.0, 40.0], seq=6))
    await wait_until(lambda: len(scores) == 2)
    normal, high = (decode_score(m.data) for m in scores)
    assert normal.model_name == high.model_name == "auto.pump-1"
    assert normal.score < 3 and not normal.is_anomaly
    assert high.score > 9 and high.is_anomaly and high.threshold == 9.0
    assert (normal.sequence, high.sequence) == (1, 2)
    assert high.contributions is not None and set(high.contributions) == set(NAMES)
    assert high.window_end - high.window_start == 1_000_000_000 and high.feature_config_version == "1"
    active = (await svc.http.get("/api/v3/model/active")).json()
    (slot,) = active["slots"]
    assert slot["slot"] == "pump-1" and slot["current"]["providers"] == ["CPUExecutionProvider"]


async def test_inference_dead_letters_vector_with_wrong_names_and_keeps_scoring(make_settings, started, collector, bus):
    svc = await started(make_settings(auto_fit=False))
    r = await svc.http.post("/api/v3/model/baseline", json=BASELINE)
    assert r.status_code == 201, r.text
    dead = await collector(topics.dead_letter(SERVICE_NAME))
    scores = await collector(topics.score_all())
    await bus.publish(topics.feature_vector("pump-1"), vector("pump-1", [1.0, 2.0, 3.0], names=["rms", "peak", "temp"]))
    await bus.publish(topics.feature_vector("pump-1"), b"\x93not-a-vector")
    await bus.publish(topics.feature_vector("pump-1"), vector("pump-1", [1.1, 3.5, 42.0]))
    await wait_until(lambda: len(dead) == 2 and len(scores) == 1)
    rejected, malformed = sorted((m.headers["Edgewatch-Reason"] for m in dead), reverse=True)
    assert "feature names do not match model pump-baseline" in rejected and "Vibration.rms" in rejected
    assert malformed.startswith("decode:")
    assert decode_score(scores[0].data).score == pytest.approx(1.0, rel=1e-4)
    reg = svc.host.metrics.registry
    assert reg.get_sample_value("edgewatch_inference_vectors_rejected_total", {"reason": "FeatureMismatchError"}) == 1


async def test_inference_without_model_and_autofit_off_dead_letters_vectors(make_settings, started, collector, bus):
    await started(make_settings(auto_fit=False))
    dead = await collector(topics.dead_letter(SERVICE_NAME))
    await bus.publish(topics.feature_vector("pump-9"), vector("pump-9", [1.0, 3.0, 40.0]))
    await wait_until(lambda: len(dead) == 1)
    assert "no active model" in dead[0].headers["Edgewatch-Reason"]


def _upload_body(name: str, version: str, mean: list[float], expected: float) -> dict:
    model = build_standardized_distance(NAMES, np.asarray(mean), np.asarray([0.1, 0.5, 2.0]))
    return {
        "name": name,
        "version": version,
        "inputNames": NAMES,
        "threshold": 5.0,
        "golden": {"input": [1.1, 3.5, 42.0], "expectedScore": expected},
        "model": base64.b64encode(model).decode(),
    }


async def test_model_failing_golden_vector_is_rejected_and_old_model_keeps_serving(
    make_settings, started, collector, bus
):
    svc = await started(make_settings(auto_fit=False))
    assert (await svc.http.post("/api/v3/model", json=_upload_body("m", "1", [1.0, 3.0, 40.0], 1.0))).status_code == 201
    # version 2 claims the same golden output but was built around another mean: it scores the probe differently
    bad = await svc.http.post("/api/v3/model", json=_upload_body("m", "2", [2.0, 3.0, 40.0], 1.0))
    assert bad.status_code == 400
    assert "model m/2 rejected" in bad.json()["message"] and "golden vector" in bad.json()["message"]
    garbage = {**_upload_body("m", "3", [1.0, 3.0, 40.0], 1.0), "model": base64.b64encode(b"junk").decode()}
    r = await svc.http.post("/api/v3/model", json=garbage)
    assert r.status_code == 400 and "not an ONNX model" in r.json()["message"]
    scores = await collector(topics.score_all())
    await bus.publish(topics.feature_vector("p"), vector("p", [1.1, 3.5, 42.0]))
    await wait_until(lambda: len(scores) == 1)
    s = decode_score(scores[0].data)
    assert (s.model_name, s.model_version) == ("m", "1") and s.score == pytest.approx(1.0, rel=1e-4)
    listed = (await svc.http.get("/api/v3/model")).json()
    assert [m["version"] for m in listed["models"]] == ["1"]


async def test_model_swap_then_rollback_serves_previous_model(make_settings, started, collector, bus):
    svc = await started(make_settings(auto_fit=False))
    await svc.http.post("/api/v3/model", json=_upload_body("m", "1", [1.0, 3.0, 40.0], 1.0))
    # v2 is centred 1.0 higher on the first feature: the probe is 9 std away there -> (81 + 1 + 1) / 3
    r = await svc.http.post("/api/v3/model", json=_upload_body("m", "2", [0.2, 3.0, 40.0], 83 / 3))
    assert r.status_code == 201, r.text
    scores = await collector(topics.score_all())
    await bus.publish(topics.feature_vector("p"), vector("p", [1.1, 3.5, 42.0]))
    await wait_until(lambda: len(scores) == 1)
    assert decode_score(scores[0].data).model_version == "2"
    r = await svc.http.post("/api/v3/model/rollback", json={})
    assert r.status_code == 200 and r.json()["model"]["version"] == "1"
    await bus.publish(topics.feature_vector("p"), vector("p", [1.1, 3.5, 42.0]))
    await wait_until(lambda: len(scores) == 2)
    assert decode_score(scores[1].data).model_version == "1"
    r = await svc.http.post("/api/v3/model/activate", json={"name": "m", "version": "404"})
    assert r.status_code == 404


async def test_activating_a_corrupted_stored_model_is_rejected_and_current_stays(make_settings, started, tmp_path):
    svc = await started(make_settings(auto_fit=False))
    await svc.http.post("/api/v3/model", json=_upload_body("m", "1", [1.0, 3.0, 40.0], 1.0))
    await svc.http.post("/api/v3/model", json={**_upload_body("m", "2", [1.0, 3.0, 40.0], 1.0), "activate": False})
    (tmp_path / "data" / "models" / "m" / "2" / "model.onnx").write_bytes(b"tampered")
    r = await svc.http.post("/api/v3/model/activate", json={"name": "m", "version": "2"})
    assert r.status_code == 400 and "sha256" in r.json()["message"]
    active = (await svc.http.get("/api/v3/model/active")).json()
    assert active["slots"][0]["current"]["version"] == "1"


async def test_threshold_overrides_rest_wins_over_writable(make_settings, started, collector, bus):
    svc = await started(make_settings(auto_fit=False))
    await svc.http.post("/api/v3/model/baseline", json=BASELINE)
    scores = await collector(topics.score_all())
    svc.host.apply_writable(InferenceWritable(thresholds={"p": 0.5}))
    await bus.publish(topics.feature_vector("p"), vector("p", [1.1, 3.5, 42.0]))
    await wait_until(lambda: len(scores) == 1)
    first = decode_score(scores[0].data)
    assert (first.threshold, first.is_anomaly) == (0.5, True)
    r = await svc.http.put("/api/v3/threshold/device/p", json={"threshold": 2.0})
    assert r.status_code == 200
    await bus.publish(topics.feature_vector("p"), vector("p", [1.1, 3.5, 42.0]))
    await wait_until(lambda: len(scores) == 2)
    second = decode_score(scores[1].data)
    assert (second.threshold, second.is_anomaly) == (2.0, False)
    r = await svc.http.put("/api/v3/threshold/device/p", json={"threshold": -1})
    assert r.status_code == 400 and "threshold" in r.json()["message"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"std": [0.1, 0.0, 2.0]}, "std"),
        ({"mean": [1.0]}, "mean"),
        ({"name": "../etc"}, "name"),
        ({"threshold": "high"}, "threshold"),
        ({"bogus": 1}, "bogus"),
    ],
)
async def test_baseline_endpoint_rejects_invalid_body_naming_the_field(make_settings, started, patch, field):
    svc = await started(make_settings(auto_fit=False))
    r = await svc.http.post("/api/v3/model/baseline", json={**BASELINE, **patch})
    assert r.status_code == 400
    assert field in r.json()["message"]


async def test_restart_serves_the_persisted_models_without_refitting(make_settings, started, collector, bus):
    settings = make_settings(baseline_count=3)
    svc = await started(settings)
    for i in range(3):
        await bus.publish(topics.feature_vector("pump-1"), vector("pump-1", [1.0 + i * 0.01, 3.0, 40.0]))
    await wait_until(lambda: svc.host.metrics.registry.get_sample_value("edgewatch_inference_baseline_fits_total") == 1)
    await svc.http.post("/api/v3/model/baseline", json=BASELINE)
    before = (await svc.http.get("/api/v3/model/active")).json()["slots"]
    await svc.host.__aexit__(None, None, None)
    again = await started(make_settings(baseline_count=3))
    after = (await again.http.get("/api/v3/model/active")).json()["slots"]
    assert [(s["slot"], s["current"]["version"]) for s in after] == [
        (s["slot"], s["current"]["version"]) for s in before
    ]
    scores = await collector(topics.score("pump-1"))
    await bus.publish(topics.feature_vector("pump-1"), vector("pump-1", [1.0, 3.0, 40.0]))
    await wait_until(lambda: len(scores) == 1)
    assert decode_score(scores[0].data).model_name == "auto.pump-1"
