"""Property tests: arbitrary timestamp disorder (gaps, duplicates, reordering, clock jumps) never crashes the
pipeline, and what it emits is always well-formed."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.spec import FeatureConfig
from edgewatch.features.store import ConfigStore

T0 = 1_700_000_000_000_000_000
MS = 1_000_000

slow_samples = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=-5_000, max_value=120_000),  # ms around T0: late, duplicate, far ahead
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    max_size=300,
)
window = st.sampled_from(
    [
        {"basis": "time", "size": 5000},
        {"basis": "time", "size": 4000, "hop": 1000},
        {"basis": "count", "size": 3},
        {"basis": "count", "size": 4, "hop": 1},
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=slow_samples, win=window, lateness=st.sampled_from([0, 1000]))
def test_slow_windows_survive_any_timestamp_disorder(samples, win, lateness) -> None:
    store = ConfigStore()
    store.put("d", FeatureConfig.model_validate({"scalar": {"window": win, "latenessMs": lateness, "maxGapMs": 2000}}))
    p = FeaturePipeline(store)
    out = []
    for resource, ms, value in samples:
        out += p.scalar("d", "prof", resource, T0 + ms * MS, value)
    accepted = len(samples) - p.stats["duplicate"] - p.stats["late"]
    assert sum(fv.sample_count for fv in out) <= accepted * (4 if win.get("hop") else 1)
    for fv in out:
        assert fv.window_start <= fv.window_end and len(fv.names) == fv.values.shape[0]
        assert np.isfinite(fv.values).all() and min(fv.sample_counts) >= 1
    starts = [fv.window_start for fv in out]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


blocks = st.lists(
    st.tuples(st.integers(min_value=-40, max_value=400), st.integers(min_value=0, max_value=300)),  # (ms, samples)
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=blocks, hop=st.sampled_from([None, 32]))
def test_waveform_windows_survive_any_block_disorder(items, hop) -> None:
    fs = 1000.0
    window = {"basis": "count", "size": 64} | ({"hop": hop} if hop else {})
    cfg = {"waveforms": [{"resource": "acc", "sampleRateHz": fs, "window": window, "maxGapSamples": 4}], "scalar": None}
    store = ConfigStore()
    store.put("d", FeatureConfig.model_validate(cfg))
    p = FeaturePipeline(store)
    rng = np.random.default_rng(0)
    out = []
    for ms, n in items:
        out += p.block("d", "prof", "acc", T0 + ms * MS, rng.standard_normal(n).astype(np.float32), None)
    for fv in out:
        assert fv.sample_count == 64 and np.isfinite(fv.values).all()
        assert fv.window_end - fv.window_start == 64 * MS
