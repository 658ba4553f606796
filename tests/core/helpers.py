"""Request builders and bus helpers shared by the core tests."""

from __future__ import annotations

import time
import uuid
from typing import Any

MODBUS_PROFILE = "Test-Device-Modbus-Profile"


def service_req(name: str = "svc", **over: Any) -> dict[str, Any]:
    """An AddDeviceServiceRequest."""
    return {
        "apiVersion": "v3",
        "service": {"name": name, "baseAddress": "http://127.0.0.1:59900", "adminState": "UNLOCKED", **over},
    }


def profile_doc(name: str = "P", **over: Any) -> dict[str, Any]:
    """A small valid profile: resources t (R Float32) and sw (RW Bool), command Both."""
    doc: dict[str, Any] = {
        "name": name,
        "manufacturer": "ACME",
        "model": "M1",
        "labels": ["a", "b"],
        "deviceResources": [
            {"name": "t", "properties": {"valueType": "Float32", "readWrite": "R", "units": "C"}},
            {"name": "sw", "properties": {"valueType": "Bool", "readWrite": "RW"}},
        ],
        "deviceCommands": [
            {
                "name": "Both",
                "readWrite": "R",
                "resourceOperations": [{"deviceResource": "t"}, {"deviceResource": "sw"}],
            }
        ],
    }
    doc.update(over)
    return doc


def profile_req(name: str = "P", **over: Any) -> dict[str, Any]:
    """An AddDeviceProfileRequest."""
    return {"apiVersion": "v3", "requestId": str(uuid.uuid4()), "profile": profile_doc(name, **over)}


def device_doc(name: str = "d1", service: str = "svc", profile: str = "P", **over: Any) -> dict[str, Any]:
    """A valid device."""
    return {
        "name": name,
        "serviceName": service,
        "profileName": profile,
        "adminState": "UNLOCKED",
        "operatingState": "UP",
        "protocols": {"modbus-tcp": {"Address": "127.0.0.1", "Port": 502, "UnitID": 1}},
        **over,
    }


def device_req(name: str = "d1", service: str = "svc", profile: str = "P", **over: Any) -> dict[str, Any]:
    """An AddDeviceRequest."""
    return {"apiVersion": "v3", "device": device_doc(name, service, profile, **over)}


def event_doc(
    device: str = "d1",
    profile: str = "P",
    source: str = "t",
    value: str = "2.5e+01",
    origin: int | None = None,
    resource: str = "t",
) -> dict[str, Any]:
    """An Event with one Float32 reading."""
    o = origin or time.time_ns()
    return {
        "apiVersion": "v3",
        "id": str(uuid.uuid4()),
        "deviceName": device,
        "profileName": profile,
        "sourceName": source,
        "origin": o,
        "readings": [
            {
                "id": str(uuid.uuid4()),
                "origin": o,
                "deviceName": device,
                "resourceName": resource,
                "profileName": profile,
                "valueType": "Float32",
                "value": value,
            }
        ],
    }
