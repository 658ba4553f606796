"""Inference and rules together with the demo configuration: vectors -> baseline fit -> scores -> one PumpStop."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from edgewatch.common.contracts import topics
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.common.service.settings import load_settings
from edgewatch.inference.app import build_app as build_inference
from edgewatch.inference.config import InferenceSettings
from tests.conftest import bus_settings
from tests.support.waiting import wait_until

SERVICES = Path(__file__).resolve().parents[2] / "services"


async def test_demo_config_rising_vibration_raises_once_and_stops_the_pump(
    nats_server, tmp_path, started, make_settings, core_command, alerts, bus
):
    env = {"EDGEWATCH_DATA_DIR": str(tmp_path / "inference")}
    inf_settings = load_settings(InferenceSettings, SERVICES / "inference" / "res" / "configuration.yaml", env=env)
    inf_settings.message_bus = bus_settings(nats_server)
    inference = build_inference(inf_settings)
    demo_rules = str(SERVICES / "rules" / "res" / "rules" / "demo-pump.yaml")
    rules = await started(make_settings(files=[demo_rules]))
    async with inference:
        rng = np.random.default_rng(3)
        names = ["Vibration.mean", "Vibration.std", "Current.mean"]
        for i in range(40):
            rise = 0.0 if i < 10 else 0.05 * (i - 10)  # vibration and current creep up after 10 windows
            values = np.array([2.0 + rise, 0.2 + rise / 10, 12.0 + rise / 5]) + rng.normal(0, [0.05, 0.01, 0.05])
            fv = FeatureVector(
                device="demo-pump",
                profile="demo-pump",
                resources=["Vibration", "Current"],
                window_start=i * 5_000_000_000 + 1,
                window_end=(i + 1) * 5_000_000_000,
                sample_count=35,
                names=names,
                values=values,
            )
            await bus.publish(topics.feature_vector("demo-pump"), encode_feature_vector(fv))
        scored = inference.metrics.registry
        await wait_until(lambda: scored.get_sample_value("edgewatch_inference_scores_total") == 34, timeout=15)

        async def last_window_evaluated() -> bool:
            r = await rules.http.get("/api/v3/rule/name/pump-vibration-high/status")
            seen = r.json()["status"]["devices"].get("demo-pump", {})
            return seen.get("lastSample") == 40 * 5_000_000_000

        await wait_until(last_window_evaluated, message="rules saw the last score")
        await wait_until(lambda: len(alerts) >= 1)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(inference.app), base_url="http://inference")
        async with client:
            slots = (await client.get("/api/v3/model/active")).json()["slots"]
        assert slots[0]["slot"] == "demo-pump" and slots[0]["current"]["inputNames"] == names
    (alert,) = alerts
    assert (alert.rule, alert.device, alert.state, alert.kind) == (
        "pump-vibration-high",
        "demo-pump",
        "raised",
        "threshold",
    )
    assert alert.value > 8 and alert.actions[0].result == "ok"
    assert len(core_command.requests) == 1
    assert core_command.requests[0][0] == topics.command_request("demo-pump", "PumpStop", "set")
    assert core_command.settings(0) == {"PumpStop": "true"}
