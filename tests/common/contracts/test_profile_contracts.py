"""Device profile contracts: shared EdgeX files round-trip, yaml.v3 literal text, section 6 checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.profile import AddDeviceProfileRequest, DeviceProfile
from edgewatch.common.contracts.yamlcompat import load_profile_yaml
from tests.support.shared import shared_files, shared_mark

PROFILES = shared_files("edgex", "profiles")
NEEDS_PROFILES = shared_mark("edgex", "profiles")


def _profile(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "P",
        "deviceResources": [{"name": "t", "properties": {"valueType": "Float32", "readWrite": "R"}}],
        "deviceCommands": [],
    }
    base.update(over)
    return base


@NEEDS_PROFILES
@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_profile_shared_file_round_trips_through_json(path: Path) -> None:
    p = load_profile_yaml(path.read_text())
    again = DeviceProfile.model_validate(json.loads(json.dumps(p.to_dict())))
    assert again == p
    assert again.to_dict() == p.to_dict()


def test_profile_yaml_keeps_literal_text_of_scalars_in_string_fields() -> None:
    p = load_profile_yaml(
        "name: x\ndeviceResources:\n- name: a\n  attributes: {startingAddress: 10.10}\n"
        "  properties: {valueType: float32, readWrite: RW, defaultValue: 0.0, units: 010, minimum: 0}\n"
    )
    props = p.device_resources[0].properties
    assert props.default_value == "0.0"
    assert props.units == "010"
    assert props.value_type == "Float32"
    assert props.minimum == 0.0
    assert p.device_resources[0].attributes == {"startingAddress": 10.1}


def test_profile_yaml_v2_era_value_type_layout_is_rejected_naming_the_field() -> None:
    text = "name: old\ndeviceResources:\n- name: a\n  properties:\n    value: {type: Float32, readWrite: R}\n"
    with pytest.raises(ContractInvalidError) as e:
        load_profile_yaml(text)
    assert "valueType" in e.value.message and "'old'" in e.value.message


@pytest.mark.parametrize(
    ("profile", "needle"),
    [
        (_profile(name=""), "name"),
        (
            _profile(deviceResources=[{"name": "a", "properties": {"valueType": "Float99", "readWrite": "R"}}]),
            "Float99",
        ),
        (
            _profile(
                deviceResources=[
                    {"name": "a", "properties": {"valueType": "Int16", "readWrite": "R"}},
                    {"name": "a", "properties": {"valueType": "Int16", "readWrite": "R"}},
                ]
            ),
            "duplicate deviceResource name 'a'",
        ),
        (
            _profile(
                deviceCommands=[{"name": "c", "readWrite": "R", "resourceOperations": [{"deviceResource": "zz"}]}]
            ),
            "resourceOperations[0].deviceResource 'zz'",
        ),
        (
            _profile(deviceCommands=[{"name": "c", "readWrite": "W", "resourceOperations": [{"deviceResource": "t"}]}]),
            "readWrite 'W' conflicts with resource 't'",
        ),
        (
            _profile(deviceResources=[{"name": "img", "properties": {"valueType": "Binary", "readWrite": "RW"}}]),
            "resource 'img'",
        ),
    ],
)
def test_profile_invalid_is_rejected_with_message_naming_profile_and_field(
    profile: dict[str, object], needle: str
) -> None:
    with pytest.raises(ValidationError) as e:
        AddDeviceProfileRequest.model_validate({"apiVersion": "v3", "profile": profile})
    assert needle in str(e.value)


def test_profile_omits_empty_fields_like_go_omitempty() -> None:
    out = DeviceProfile.model_validate(_profile()).to_dict()
    assert out == {
        "name": "P",
        "deviceResources": [{"name": "t", "isHidden": False, "properties": {"valueType": "Float32", "readWrite": "R"}}],
        "deviceCommands": [],
    }
