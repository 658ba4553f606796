"""Device, device service and provision watcher contracts; device definition files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from edgewatch.common.contracts.device import AutoEvent, Device, UpdateDevice, parse_go_duration
from edgewatch.common.contracts.deviceservice import DeviceService
from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.yamlcompat import load_device_definitions
from tests.support.shared import shared_files, shared_mark

DEVICE_FILES = shared_files("edgex", "devices")
NEEDS_DEVICES = shared_mark("edgex", "devices")


@NEEDS_DEVICES
@pytest.mark.parametrize("path", DEVICE_FILES, ids=lambda p: p.name)
def test_device_shared_file_loads_and_round_trips(path: Path) -> None:
    devices = load_device_definitions(path, service_name="edgewatch-ingest")
    assert devices
    for d in devices:
        assert d.service_name == "edgewatch-ingest"
        assert (d.admin_state, d.operating_state) == ("UNLOCKED", "UP")
        assert Device.model_validate(json.loads(json.dumps(d.to_dict()))) == d


def test_device_definitions_accept_a_json_array() -> None:
    text = json.dumps([{"name": "d1", "serviceName": "s", "protocols": {"other": {"Port": 1}}}])
    (d,) = load_device_definitions(text)
    assert d.protocols == {"other": {"Port": 1}}


def test_device_definitions_without_device_list_are_rejected() -> None:
    with pytest.raises(ContractInvalidError, match="deviceList"):
        load_device_definitions("devices:\n- name: a\n")


@pytest.mark.parametrize(
    ("text", "ns"), [("10s", 10**10), ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), ("1.5h", 5400 * 10**9)]
)
def test_go_duration_parses_like_time_parse_duration(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize("interval", ["10", "abc", "0s", "100us"])
def test_autoevent_interval_rejects_non_durations_and_below_1ms(interval: str) -> None:
    with pytest.raises(ValidationError, match="interval"):
        AutoEvent.model_validate({"interval": interval, "sourceName": "x"})


def test_device_admin_state_is_required_on_add() -> None:
    with pytest.raises(ValidationError, match="adminState"):
        Device.model_validate({"name": "d", "serviceName": "s", "operatingState": "UP", "protocols": {}})


def test_update_device_applies_only_present_fields() -> None:
    cur = Device.model_validate(
        {"name": "d", "serviceName": "s", "adminState": "UNLOCKED", "operatingState": "UP", "protocols": {"a": {}}}
    )
    upd = UpdateDevice.model_validate({"name": "d", "adminState": "LOCKED"})
    new = upd.apply(cur)
    assert new.admin_state == "LOCKED" and new.protocols == {"a": {}} and new.service_name == "s"


def test_device_service_base_address_must_be_a_uri() -> None:
    with pytest.raises(ValidationError, match="baseAddress"):
        DeviceService.model_validate({"name": "s", "baseAddress": "not a uri", "adminState": "UNLOCKED"})
