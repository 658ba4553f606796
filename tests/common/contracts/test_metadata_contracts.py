"""Metadata response shapes: 207 items, multi responses, system events and core commands use EdgeX's keys."""

from __future__ import annotations

from edgewatch.common.contracts.command import CoreCommand, DeviceCoreCommand, MultiDeviceCoreCommandsResponse
from edgewatch.common.contracts.errors import ConflictError
from edgewatch.common.contracts.provisionwatcher import AddProvisionWatcherRequest
from edgewatch.common.contracts.responses import MultiProvisionWatchersResponse, item_created, item_error, item_ok
from edgewatch.common.contracts.systemevent import new_system_event


def test_multistatus_items_omit_empty_request_id_and_message() -> None:
    assert item_created("", "abc") == {"apiVersion": "v3", "statusCode": 201, "id": "abc"}
    assert item_ok("r1") == {"apiVersion": "v3", "requestId": "r1", "statusCode": 200}
    assert item_error("", ConflictError("dup")) == {"apiVersion": "v3", "message": "dup", "statusCode": 409}


def test_system_event_has_edgex_keys_and_ns_timestamp() -> None:
    ev = new_system_event("device", "add", "svc", {"name": "d"}).to_dict()
    assert set(ev) == {"apiVersion", "type", "action", "source", "owner", "details", "timestamp"}
    assert ev["source"] == "core-metadata" and ev["timestamp"] > 10**18


def test_provision_watcher_key_is_matched_case_insensitively() -> None:
    doc = {
        "apiVersion": "v3",
        "provisionwatcher": {
            "name": "pw",
            "serviceName": "s",
            "identifiers": {"a": "b"},
            "adminState": "UNLOCKED",
            "discoveredDevice": {"adminState": "LOCKED"},
        },
    }
    req = AddProvisionWatcherRequest.model_validate(doc)
    out = MultiProvisionWatchersResponse(total_count=1, provision_watchers=[req.provision_watcher]).to_dict()
    assert out["totalCount"] == 1 and out["provisionWatchers"][0]["discoveredDevice"] == {"adminState": "LOCKED"}


def test_core_command_listing_keys() -> None:
    cmd = CoreCommand(name="c", get=True, path="/api/v3/device/name/d/c", url="http://h:59882")
    out = MultiDeviceCoreCommandsResponse(
        total_count=1, device_core_commands=[DeviceCoreCommand(device_name="d", profile_name="p", core_commands=[cmd])]
    ).to_dict()
    assert out["deviceCoreCommands"][0] == {
        "deviceName": "d",
        "profileName": "p",
        "coreCommands": [{"name": "c", "get": True, "path": "/api/v3/device/name/d/c", "url": "http://h:59882"}],
    }
