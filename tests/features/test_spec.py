"""Feature configuration validation (errors name the field) and the versioned, persisted store."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edgewatch.features.spec import FeatureConfig, WaveformSpec
from edgewatch.features.store import DEFAULT_VERSION, ConfigStore

BEARING = {"balls": 9, "ballDiameter": 0.3126, "pitchDiameter": 1.537}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"waveforms": [{"resource": "a", "window": {"size": 10.5}}]}, "size"),
        ({"waveforms": [{"resource": "a", "window": {"size": 64, "hop": 65}}]}, "hop"),
        ({"waveforms": [{"resource": "a"}, {"resource": "a"}]}, "waveforms.1.resource"),
        ({"waveforms": [{"resource": "a", "bands": [[500, 100]]}]}, "bands.0"),
        ({"waveforms": [{"resource": "a", "bands": [[0, 100], [0, 100]]}]}, "bands.1"),
        ({"waveforms": [{"resource": "a", "sampleRateHz": 1000, "window": {"size": 4}}]}, "window.size"),
        (
            {"waveforms": [{"resource": "a", "envelope": {"bandHz": [10, 5], "bearing": BEARING, "shaft": {"hz": 1}}}]},
            "bandHz",
        ),
        (
            {"waveforms": [{"resource": "a", "envelope": {"bandHz": [1, 5], "bearing": BEARING, "shaft": {}}}]},
            "hz",
        ),
        (
            {
                "waveforms": [
                    {"resource": "a", "envelope": {"bandHz": [1, 5], "bearing": BEARING, "shaft": {"hz": 1, "rpm": 60}}}
                ]
            },
            "hz",
        ),
        (
            {
                "waveforms": [
                    {
                        "resource": "a",
                        "envelope": {"bandHz": [1, 5], "shaft": {"hz": 1}, "bearing": {**BEARING, "ballDiameter": 2.0}},
                    }
                ]
            },
            "ballDiameter",
        ),
        (
            {
                "waveforms": [
                    {
                        "resource": "a",
                        "sampleRateHz": 8000,
                        "envelope": {"bandHz": [4000, 5000], "bearing": BEARING, "shaft": {"hz": 1}},
                    }
                ]
            },
            "envelope.bandHz",
        ),
        (
            {
                "waveforms": [
                    {
                        "resource": "a",
                        "sampleRateHz": 12000,
                        "envelope": {"bandHz": [2000, 2400], "bearing": BEARING, "shaft": {"rpm": 1797}},
                    }
                ]
            },
            "envelope.harmonics",
        ),
        ({"scalar": {"features": ["mean", "median"]}}, "features"),
        ({"scalar": {"resources": ["a", "a"]}}, "resources"),
        ({"scalar": {"resources": ["a"], "clock": "b"}}, "clock"),
        ({"scalar": {"zscoreHistory": 1}}, "zscoreHistory"),
        ({"scalar": {"windw": {}}}, "windw"),
        ({"waveforms": [{"resource": "a"}], "scalar": {"resources": ["a"]}}, "scalar.resources"),
    ],
)
def test_invalid_feature_config_is_rejected_naming_the_field(doc: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        FeatureConfig.model_validate(doc)
    text = str(err.value)
    assert field in text, text


def test_time_window_of_a_waveform_converts_with_the_sample_rate() -> None:
    spec = WaveformSpec.model_validate({"resource": "a", "window": {"basis": "time", "size": 160, "hop": 40}})
    assert spec.samples(25600.0) == 4096 and spec.hop_samples(25600.0) == 1024 and spec.window.kind == "sliding"


def test_store_versions_never_repeat_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "features.json"
    store = ConfigStore(path)
    changed: list[str] = []
    store.on_change(changed.append)
    assert store.get("d").version == DEFAULT_VERSION and store.stored("d") is None
    v1 = store.put("d", FeatureConfig.model_validate({"scalar": {"latenessMs": 0}})).version
    assert store.delete("d") and not store.delete("d")
    v2 = store.put("d", FeatureConfig()).version
    v3 = store.put("e", FeatureConfig.model_validate({"scalar": None})).version
    assert len({v1, v2, v3, DEFAULT_VERSION}) == 4 and changed == ["d", "d", "d", "e"]
    again = ConfigStore(path)
    assert [i.device for i in again.all()] == ["d", "e"] and again.get("e").config.scalar is None
    assert again.put("f", FeatureConfig()).version not in {v1, v2, v3}


def test_store_ignores_a_corrupt_file_and_starts_on_defaults(tmp_path: Path) -> None:
    path = tmp_path / "features.json"
    path.write_text("{not json")
    store = ConfigStore(path)
    assert store.all() == [] and store.get("d").version == DEFAULT_VERSION
