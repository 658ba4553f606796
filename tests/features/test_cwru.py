"""CWRU bearing data through the service's waveform path: envelope peaks at BPFI / BPFO, the right fault ranks first."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from edgewatch.features.bearing import FAULTS
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.spec import FeatureConfig
from edgewatch.features.store import ConfigStore
from tests.features.datasets import dataset_path

pytestmark = pytest.mark.dataset

T0 = 1_700_000_000_000_000_000
DE_6205 = {"balls": 9, "ballDiameter": 0.3126, "pitchDiameter": 1.537}


def _vectors(file: str, key: str, fs: float, n: int = 4096) -> list[dict[str, float]]:
    x = scipy.io.loadmat(dataset_path("cwru", file))[key].ravel().astype(np.float32)  # f32 as a DAQ would send
    config = {
        "waveforms": [
            {
                "resource": "DE",
                "sampleRateHz": fs,
                "window": {"basis": "count", "size": n},
                "envelope": {"bandHz": [2000, 5000], "bearing": DE_6205, "shaft": {"rpm": 1797}},
            }
        ],
        "scalar": None,
    }
    store = ConfigStore()
    store.put("cwru", FeatureConfig.model_validate(config))
    p = FeaturePipeline(store)
    out = []
    block = 1000  # blocks as a device service would publish them, not aligned with the windows
    for k in range(0, x.shape[0] - block + 1, block):
        out += p.block("cwru", "bearing", "DE", T0 + round(k / fs * 1e9), x[k : k + block], None)
    assert p.stats["gap"] == 0 and p.stats["out_of_order"] == 0
    return [fv.as_dict() for fv in out]


@pytest.mark.parametrize(
    ("file", "key", "fault", "peak_hz"),
    [
        ("12k_Drive_End_IR007_0_105.mat", "X105_DE_time", "bpfi", 161.7),
        ("12k_Drive_End_OR007at6_0_130.mat", "X130_DE_time", "bpfo", 107.7),
    ],
)
def test_cwru_envelope_peaks_at_the_fault_frequency_and_ranks_it_first(file, key, fault, peak_hz) -> None:
    rows = _vectors(file, key, 12000.0)
    assert len(rows) == 29
    df = 12000.0 / 4096
    peaks = np.array([r["DE.env_peak_hz"] for r in rows])
    assert abs(float(np.median(peaks)) - peak_hz) <= df
    ratios = np.array([[r[f"DE.env_{f}_ratio"] for f in FAULTS] for r in rows])
    assert FAULTS[int(np.argmax(ratios.mean(axis=0)))] == fault
    assert (np.argmax(ratios, axis=1) == FAULTS.index(fault)).mean() >= 0.9  # window by window, too
    kurt = float(np.mean([r["DE.kurtosis"] for r in rows]))
    assert kurt > 4.0  # impacting faults; a healthy bearing sits near 3


def test_cwru_normal_baseline_at_48k_shows_no_fault_line() -> None:
    normal = _vectors("normal_0_97.mat", "X097_DE_time", 48000.0, n=16384)  # the 48 kHz trap: configure 48 kHz
    inner = _vectors("12k_Drive_End_IR007_0_105.mat", "X105_DE_time", 12000.0)
    for f in ("bpfi", "bpfo"):
        healthy = float(np.mean([r[f"DE.env_{f}_ratio"] for r in normal]))
        assert healthy < float(np.mean([r["DE.env_bpfi_ratio"] for r in inner])) / 3
    assert float(np.mean([r["DE.kurtosis"] for r in normal])) < 3.5
