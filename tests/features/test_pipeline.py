"""FeaturePipeline timestamp policy and window shapes: gaps, duplicates, out-of-order, sliding, count, shaft speed."""

from __future__ import annotations

import numpy as np
import pytest

from edgewatch.features.extractor import WaveformExtractor
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.spec import FeatureConfig, WaveformSpec
from edgewatch.features.store import ConfigStore

T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000
FS = 1000.0  # 1 ms per sample keeps origins readable


def _pipeline(config: dict | None = None, device: str = "d") -> FeaturePipeline:
    store = ConfigStore()
    if config is not None:
        store.put(device, FeatureConfig.model_validate(config))
    return FeaturePipeline(store, clock=lambda: T0 + 3600 * SEC)


def _wave(n: int = 64, hop: int | None = None, **extra: object) -> dict:
    window: dict = {"basis": "count", "size": n}
    if hop is not None:
        window["hop"] = hop
    return {"waveforms": [{"resource": "acc", "sampleRateHz": FS, "window": window, **extra}], "scalar": None}


def _blocks(p: FeaturePipeline, x: np.ndarray, block: int, t0: int = T0, skip: tuple[int, ...] = ()) -> list:
    out = []
    for k in range(0, x.shape[0], block):
        if k // block in skip:
            continue
        out += p.block("d", "prof", "acc", t0 + k * SEC // int(FS), x[k : k + block], None)
    return out


def test_waveform_sliding_windows_equal_features_of_the_overlapping_slices() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(256)
    p = _pipeline(_wave(64, hop=16))
    vectors = _blocks(p, x, 40)
    assert len(vectors) == (256 - 64) // 16 + 1
    ext = WaveformExtractor(WaveformSpec(resource="acc"), 64, FS)
    for k, fv in enumerate(vectors):
        assert fv.window_start == T0 + k * 16 * SEC // 1000 and fv.window_kind == "sliding"
        np.testing.assert_allclose(fv.values, ext.compute(x[k * 16 : k * 16 + 64]), rtol=1e-12)
    assert vectors[0].names == ext.names


def test_waveform_gap_resets_the_partial_window_and_is_counted() -> None:
    x = np.arange(320, dtype=np.float64)
    p = _pipeline(_wave(64, max_gap_samples=4))
    vectors = _blocks(p, x, 32, skip=(3,))  # samples 96..127 never arrive: a 32-sample gap
    # before the gap: [0,64) complete, [64,96) partial and discarded; after it windows restart at 128
    assert [fv.window_start for fv in vectors] == [T0 + i * SEC // 1000 for i in (0, 128, 192, 256)]
    assert p.stats["gap"] == 1
    assert vectors[1].as_dict()["acc.mean"] == pytest.approx(np.arange(128, 192).mean())


def test_waveform_small_timestamp_jitter_is_not_a_gap() -> None:
    p = _pipeline(_wave(64, max_gap_samples=4))
    x = np.ones(128)
    jitter = [0, 2, -1, 1]  # ms of jitter on each 32-sample block, within 4 samples of slack
    out = []
    for k in range(4):
        out += p.block("d", "prof", "acc", T0 + (k * 32 + jitter[k]) * SEC // 1000, x[k * 32 : (k + 1) * 32], None)
    assert len(out) == 2 and p.stats["gap"] == 0


def test_waveform_duplicate_and_out_of_order_blocks_are_dropped_and_counted() -> None:
    x = np.arange(256, dtype=np.float64)
    p = _pipeline(_wave(64))
    ms = SEC // 1000
    out = p.block("d", "prof", "acc", T0, x[:32], None)
    out += p.block("d", "prof", "acc", T0 + 32 * ms, x[32:64], None)
    out += p.block("d", "prof", "acc", T0 + 32 * ms, x[32:64], None)  # duplicate
    out += p.block("d", "prof", "acc", T0 + 16 * ms, x[16:48], None)  # overlaps the past: out of order
    out += p.block("d", "prof", "acc", T0 + 64 * ms, x[64:128], None)
    assert p.stats["duplicate"] == 1 and p.stats["out_of_order"] == 1
    assert [fv.as_dict()["acc.mean"] for fv in out] == [31.5, 95.5]


def test_waveform_without_sample_rate_is_skipped_and_counted() -> None:
    p = _pipeline()
    assert p.block("d", "prof", "acc", T0, np.ones(8192), None) == []
    assert p.stats["no_sample_rate"] == 1
    out = p.block("d", "prof", "acc", T0, np.ones(8192), 25600.0)  # from the reading tag: default 4096 windows
    assert len(out) == 2 and out[0].sample_count == 4096 and "acc.band_0_1600" in out[0].names


def test_waveform_time_window_too_short_for_the_tagged_rate_is_skipped() -> None:
    p = _pipeline({"waveforms": [{"resource": "acc", "window": {"basis": "time", "size": 1}}], "scalar": None})
    assert p.block("d", "prof", "acc", T0, np.ones(64), 1000.0) == []  # 1 ms at 1 kHz = 1 sample
    assert p.stats["window_too_short"] == 1
    assert len(p.block("d", "prof", "acc", T0 + SEC, np.ones(64), 16000.0)) == 4  # 16 samples per window


def test_envelope_uses_the_latest_speed_resource_value() -> None:
    env = {
        "bandHz": [100, 400],
        "bearing": {"balls": 9, "ballDiameter": 0.3126, "pitchDiameter": 1.537},
        "shaft": {"resource": "Speed", "resourceUnits": "rpm"},
    }
    cfg = _wave(256, envelope=env)
    cfg["scalar"] = {"resources": ["Speed"], "window": {"basis": "count", "size": 100}}
    p = _pipeline(cfg)
    t = np.arange(512) / FS
    x = np.sin(2 * np.pi * 250 * t) * (1 + np.sin(2 * np.pi * 3.5848 * 10 * t))  # AM at BPFO of 10 Hz shaft
    assert _blocks(p, x[:256], 256)[0].as_dict()["acc.env_bpfo"] == 0.0  # no speed known yet
    p.scalar("d", "prof", "Speed", T0, 600.0)  # 600 rpm = 10 Hz
    fv = _blocks(p, x[256:], 256, t0=T0 + 256 * SEC // 1000)[0].as_dict()
    assert fv["acc.env_bpfo_ratio"] > fv["acc.env_bpfi_ratio"] and fv["acc.env_bpfo"] > 0


def _scalar(p: FeaturePipeline, resource: str, sec: float, value: float) -> list:
    return p.scalar("d", "prof", resource, T0 + round(sec * SEC), value)


def test_scalar_duplicates_are_dropped_and_out_of_order_samples_reordered() -> None:
    p = _pipeline({"scalar": {"window": {"basis": "time", "size": 5000}, "latenessMs": 0}})
    out = []
    for sec, v in [(0, 1.0), (2, 3.0), (1, 2.0), (2, 3.0), (3, 4.0), (4, 5.0), (5, 6.0)]:
        out += _scalar(p, "a", sec, v)
    assert p.stats["duplicate"] == 1 and p.stats["reordered"] == 1
    (fv,) = out
    f = fv.as_dict()
    assert fv.sample_counts == [5] and f["a.delta"] == 4.0 and f["a.mean"] == 3.0
    assert _scalar(p, "a", 4.5, 9.0) == [] and p.stats["late"] == 1  # the [0,5) window is closed


def test_scalar_lateness_waits_for_stragglers_of_other_resources() -> None:
    p = _pipeline({"scalar": {"latenessMs": 2000}})
    out = []
    for i in range(7):
        out += _scalar(p, "a", i, float(i))
    assert out == []  # [0,5) stays open until a sample reaches 7 s
    out += _scalar(p, "b", 4.5, 10.0)  # late for "a" but inside the lateness: kept
    out += _scalar(p, "a", 7, 7.0)
    (fv,) = out
    assert fv.resources == ["a", "b"] and fv.sample_counts == [5, 1]


def test_scalar_gap_flags_the_window_resets_zscore_and_skips_empty_windows() -> None:
    p = _pipeline({"scalar": {"latenessMs": 0, "maxGapMs": 3000}})
    out = []
    for i in list(range(0, 20)) + list(range(60, 76)):
        out += _scalar(p, "a", i, float(i % 5))
    starts = [(fv.window_start - T0) // SEC for fv in out]
    assert starts == [0, 5, 10, 15, 60, 65, 70]  # nothing emitted for the 40 s without data
    assert [fv.flags for fv in out] == [[], [], [], [], ["gap"], [], []]
    assert out[4].as_dict()["a.zscore"] == 0.0 and p.stats["gap"] == 1


def test_scalar_zscore_measures_a_step_against_previous_windows() -> None:
    p = _pipeline({"scalar": {"latenessMs": 0}})
    out = []
    rng = np.random.default_rng(2)
    for i in range(60):
        out += _scalar(p, "a", i, (10.0 if i >= 50 else 0.0) + rng.normal(0, 0.1))
    z = [fv.as_dict()["a.zscore"] for fv in out]
    assert max(abs(v) for v in z[2:9]) < 5 and z[10] > 20


def test_scalar_incomplete_window_is_dropped_when_a_configured_resource_is_silent() -> None:
    p = _pipeline({"scalar": {"resources": ["a", "b"], "latenessMs": 0}})
    out = []
    for i in range(11):
        out += _scalar(p, "a", i, 1.0)
        if i >= 5:
            out += _scalar(p, "b", i, 2.0)
    assert len(out) == 1 and out[0].window_start == T0 + 5 * SEC and p.stats["incomplete"] == 1


def test_scalar_count_window_follows_the_clock_resource() -> None:
    p = _pipeline(
        {
            "scalar": {
                "window": {"basis": "count", "size": 4, "hop": 2},
                "clock": "a",
                "resources": ["a", "b"],
                "latenessMs": 0,
            }
        }
    )
    out = []
    for i in range(10):
        out += _scalar(p, "a", i, float(i))
        out += _scalar(p, "b", i + 0.5, 1.0)
    assert [(fv.window_start - T0) // SEC for fv in out] == [0, 2, 4]
    assert all(fv.sample_counts == [4, 4] for fv in out) and out[0].window_kind == "sliding"
    assert out[1].as_dict()["a.mean"] == 3.5


def test_config_change_resets_windows_and_stamps_the_new_version() -> None:
    store = ConfigStore()
    p = FeaturePipeline(store)
    for i in range(3):
        p.scalar("d", "prof", "a", T0 + i * SEC, 1.0)
    item = store.put(
        "d", FeatureConfig.model_validate({"scalar": {"window": {"basis": "count", "size": 2}, "latenessMs": 0}})
    )
    out = []
    for i in range(3, 6):
        out += p.scalar("d", "prof", "a", T0 + i * SEC, 1.0)
    assert out and all(fv.config_version == item.version for fv in out)
    assert out[0].window_start == T0 + 3 * SEC


def test_profile_features_tag_configures_a_waveform_when_no_rest_config_exists() -> None:
    p = _pipeline()
    tag = {"window": {"size": 32, "hop": 16}, "bands": [[0, 100], [100, 500]]}
    out = p.block("d", "prof", "acc", T0, np.ones(64), FS, tag)
    assert [fv.window_start for fv in out] == [T0 + k * 16 * SEC // 1000 for k in range(3)]
    assert out[0].config_version.startswith("profile-") and "acc.band_100_500" in out[0].names
    changed = p.block("d", "prof", "acc", T0 + SEC, np.ones(64), FS, {"window": {"size": 64}})
    assert len(changed) == 1 and changed[0].config_version != out[0].config_version  # a profile update applies


def test_invalid_profile_features_tag_falls_back_to_defaults_and_is_counted() -> None:
    p = _pipeline()
    out = p.block("d", "prof", "acc", T0, np.ones(4096), FS, {"window": {"size": 64, "hop": 128}})
    assert len(out) == 1 and out[0].sample_count == 4096 and out[0].config_version == "0"
    assert p.stats["bad_profile_config"] == 1


def test_rest_config_wins_over_the_profile_features_tag() -> None:
    p = _pipeline({"waveforms": [{"resource": "acc", "window": {"size": 16}}], "scalar": None})
    out = p.block("d", "prof", "acc", T0, np.ones(32), FS, {"window": {"size": 8}})
    assert len(out) == 2 and out[0].sample_count == 16 and out[0].config_version == "1"


def test_demo_pump_rates_give_one_28_feature_vector_every_5_s_without_configuration() -> None:
    p = _pipeline()
    rates_ms = {"Vibration": 200, "Current": 500, "Temperature": 1000, "Pressure": 1000}  # demo-pump autoEvents
    events = sorted((t, r) for r, step in rates_ms.items() for t in range(0, 21_000, step))
    out = []
    for t, r in events:
        out += p.scalar("demo-pump", "demo-pump", r, T0 + t * SEC // 1000 + 1, 1.0 + (t % 700) / 1000)
    assert [(fv.window_start - T0) // SEC for fv in out] == [0, 5, 10]  # [15, 20) waits for 21 s (lateness)
    fv = out[0]
    assert len(fv.names) == 28 and fv.resources == ["Current", "Pressure", "Temperature", "Vibration"]
    assert fv.sample_counts == [10, 5, 5, 25] and fv.config_version == "0" and fv.profile == "demo-pump"


def test_scalar_buffers_are_bounded_when_the_count_clock_goes_silent() -> None:
    from edgewatch.features import window

    p = _pipeline({"scalar": {"window": {"basis": "count", "size": 5}, "clock": "a", "resources": ["a", "b"]}})
    _scalar(p, "a", 0, 1.0)
    for i in range(window.MAX_BUFFERED + 10):
        _scalar(p, "b", 1 + i / 1000, 1.0)
    assert p.stats["overflow"] == 10


def test_samples_stamped_far_in_the_future_are_dropped_and_do_not_stall_windows() -> None:
    p = _pipeline({"scalar": {"latenessMs": 0}})
    assert _scalar(p, "a", 30 * 24 * 3600, 1.0) == [] and p.stats["future"] == 1  # a month ahead of the clock
    assert p.block("d", "prof", "acc", T0 + 10**15, np.ones(4096), FS) == [] and p.stats["future"] == 2
    out = []
    for i in range(6):
        out += _scalar(p, "a", i, 1.0)
    assert len(out) == 1 and p.stats["late"] == 0
