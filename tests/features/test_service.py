"""edgewatch-features end to end: real nats-server, EdgeX events in, FeatureVectors out, config over REST."""

from __future__ import annotations

import numpy as np

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.feature import decode_feature_vector
from edgewatch.features.app import SERVICE_NAME
from tests.features.conftest import SEC, T0, block_event, publish_event, scalar_event
from tests.support.waiting import wait_until

PUMP = ("Current", "Pressure", "Temperature", "Vibration")


async def test_features_default_config_turns_pump_readings_into_vectors(
    make_settings, started, collector, bus: NatsBus
):
    svc = await started(make_settings())
    vectors = await collector(topics.feature_vector("demo-pump"))
    for i in range(13):  # 1 Hz for 13 s: windows [0,5) and [5,10) close once a sample passes end + 1 s
        values = {"Vibration": 2.0 + 0.1 * (i % 2), "Temperature": 40.0 + i, "Pressure": 3.0, "Current": 1.5}
        await publish_event(bus, scalar_event("demo-pump", T0 + i * SEC, values))
    await wait_until(lambda: len(vectors) == 2, message="two default windows")
    first, second = (decode_feature_vector(m.data) for m in vectors)
    assert first.resources == list(PUMP) and first.config_version == "0"
    assert (first.window_start, first.window_end) == (T0, T0 + 5 * SEC)
    assert first.sample_counts == [5, 5, 5, 5] and first.window_basis == "time" and first.window_kind == "tumbling"
    f = first.as_dict()
    assert f["Temperature.mean"] == 42.0 and f["Temperature.delta"] == 4.0 and f["Pressure.std"] == 0.0
    assert f["Temperature.min"] == 40.0 and f["Temperature.max"] == 44.0
    assert second.as_dict()["Temperature.mean"] == 47.0 and second.sequence == first.sequence + 1
    stats = (await svc.http.get("/api/v3/features/stats")).json()["stats"]
    assert stats["vectors"] == 2 and stats["windows"] == 2
    listing = (await svc.http.get("/api/v3/features/config/all")).json()
    assert listing["configs"] == [] and listing["default"]["scalar"]["window"]["size"] == 5000
    scraped = svc.host.metrics.registry.get_sample_value("edgewatch_features_events_total", {"kind": "vectors"})
    assert scraped == 2


async def test_features_rest_config_applies_live_to_binary_waveform(make_settings, started, collector, bus):
    svc = await started(make_settings())
    config = {
        "waveforms": [
            {
                "resource": "DE",
                "window": {"basis": "count", "size": 1024},
                "bands": [[0, 1000], [1000, 6000]],
                "envelope": {
                    "bandHz": [2000, 5000],
                    "bearing": {"balls": 9, "ballDiameter": 0.3126, "pitchDiameter": 1.537},
                    "shaft": {"rpm": 1797},
                },
            }
        ],
        "scalar": None,
    }
    r = await svc.http.put("/api/v3/features/config/rig-1", json=config)
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    got = (await svc.http.get("/api/v3/features/config/rig-1")).json()
    assert got["version"] == version and not got["isDefault"] and got["config"]["waveforms"][0]["resource"] == "DE"
    vectors = await collector(topics.feature_vector("rig-1"))
    fs = 12000.0
    t = np.arange(2048) / fs
    x = np.sin(2 * np.pi * 375.0 * t)  # 375 Hz sits on a bin centre of a 1024-sample window
    for k in range(4):  # four blocks of 512 samples, contiguous in time, in CBOR
        await publish_event(
            bus, block_event("rig-1", "DE", T0 + round(k * 512 / fs * 1e9), x[k * 512 : (k + 1) * 512], fs), cbor=True
        )
    await wait_until(lambda: len(vectors) == 2, message="two 1024-sample windows")
    fv = decode_feature_vector(vectors[0].data)
    f = fv.as_dict()
    assert fv.config_version == version and fv.sample_rate == fs and fv.sample_count == 1024
    assert abs(f["DE.rms"] - 2**-0.5) < 1e-6 and abs(f["DE.dominant_hz"] - 375.0) < 1e-9
    assert abs(f["DE.band_0_1000"] - 0.5) < 1e-6 and "DE.env_bpfi_ratio" in f
    assert fv.window_end - fv.window_start == round(1024 / fs * 1e9)


async def test_features_rest_rejects_invalid_config_naming_the_field(make_settings, started):
    svc = await started(make_settings())
    bad = {"waveforms": [{"resource": "DE", "window": {"size": 1024, "hop": 2048}}]}
    r = await svc.http.put("/api/v3/features/config/rig-1", json=bad)
    assert r.status_code == 400 and "hop" in r.json()["message"]
    r = await svc.http.put("/api/v3/features/config/rig-1", json={"scalar": {"windw": {"size": 5}}})
    assert r.status_code == 400 and "windw" in r.json()["message"]
    r = await svc.http.put("/api/v3/features/config/bad.name", json={})
    assert r.status_code == 400 and "device" in r.json()["message"]
    r = await svc.http.delete("/api/v3/features/config/rig-1")
    assert r.status_code == 404 and r.json()["statusCode"] == 404
    assert (await svc.http.get("/api/v3/features/config/rig-1")).json()["isDefault"] is True


async def test_features_dead_letters_malformed_events_and_keeps_running(make_settings, started, collector, bus):
    svc = await started(make_settings())
    dead = await collector(topics.dead_letter(SERVICE_NAME))
    vectors = await collector(topics.feature_vector("demo-pump"))
    subject = topics.device_event("edgewatch-ingest", "pump", "demo-pump", "poll")
    await bus.publish(subject, b"{not json", {"Content-Type": "application/json", "RequestId": "r", "ApiVersion": "v3"})
    await bus.publish(subject, b'{"apiVersion":"v3","event":{"deviceName":"x"}}', {"ApiVersion": "v3"})
    for i in range(7):
        await publish_event(bus, scalar_event("demo-pump", T0 + i * SEC, {"Vibration": 1.0}))
    await wait_until(lambda: len(vectors) == 1 and len(dead) == 2, message="one vector, two dead letters")
    assert "event" in dead[1].headers["Edgewatch-Reason"]
    assert svc.host.metrics.registry.get_sample_value("edgewatch_bus_dead_letters_total", {"reason": "decode"}) == 2


async def test_features_config_survives_restart(make_settings, started):
    settings = make_settings()
    svc = await started(settings)
    r = await svc.http.put(
        "/api/v3/features/config/pump-9", json={"scalar": {"window": {"basis": "count", "size": 10}}}
    )
    version = r.json()["version"]
    again = await started(settings)
    got = (await again.http.get("/api/v3/features/config/pump-9")).json()
    assert got["version"] == version and got["config"]["scalar"]["window"]["size"] == 10


async def test_features_profile_tags_configure_a_float_array_waveform(make_settings, started, collector, bus):
    from edgewatch.common.contracts.event import Reading, new_event

    svc = await started(make_settings())
    vectors = await collector(topics.feature_vector("rig-2"))
    tags = {"sampleRateHz": 1000, "features": {"window": {"size": 16}, "bands": [[0, 100], [100, 500]]}}
    for k in range(2):
        samples = np.sin(2 * np.pi * 125 * np.arange(k * 16, (k + 1) * 16) / 1000)
        reading = Reading.simple("rig-2", "rig", "acc", "Float32Array", samples, origin=T0 + k * 16_000_000, tags=tags)
        await publish_event(bus, new_event("rig-2", "rig", "acc", [reading], origin=T0 + k * 16_000_000))
    await wait_until(lambda: len(vectors) == 2, message="two 16-sample windows configured by the profile tag")
    fv = decode_feature_vector(vectors[1].data)
    assert fv.config_version.startswith("profile-") and fv.sample_count == 16 and fv.sample_rate == 1000.0
    assert abs(fv.as_dict()["acc.dominant_hz"] - 125.0) < 1e-9 and "acc.band_100_500" in fv.names
    assert (await svc.http.get("/api/v3/features/stats")).json()["stats"]["vectors"] == 2


async def test_features_accepts_the_edgex_json_envelope_with_a_base64_payload(make_settings, started, collector, bus):
    from edgewatch.common.bus.envelope import encode_envelope, new_envelope
    from edgewatch.common.contracts.event import AddEventRequest
    from edgewatch.common.contracts.eventcodec import encode_add_event

    await started(make_settings())
    vectors = await collector(topics.feature_vector("pump-j"))
    for i in range(7):
        event = scalar_event("pump-j", T0 + i * SEC, {"Pressure": 3.0 + i})
        body, headers = encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(event))), "json", v4=False)
        await bus.publish(topics.device_event("edgewatch-ingest", "pump", "pump-j", "poll"), body, headers)
    await wait_until(lambda: len(vectors) == 1, message="one vector from v3 json envelopes")
    assert decode_feature_vector(vectors[0].data).as_dict()["Pressure.mean"] == 5.0
