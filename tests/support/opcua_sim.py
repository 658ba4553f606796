"""OPC UA test support: the simulator, a node of every EdgeX valueType, profiles and devices built in code, the
EdgeX device-opc-ua example files, and a registry that records the events and state changes it produces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asyncua import ua

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.event import Event
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.ingest.registry import DeviceRegistry
from edgewatch.ingest.scheduler import PollerSettings
from edgewatch.sim.opcua.launch import start_opcua_sim
from edgewatch.sim.opcua.model import Variable
from edgewatch.sim.opcua.server import OpcUaSim

__all__ = [
    "EDGEX_FIXTURES",
    "TYPE_ROWS",
    "OpcUaSim",
    "Recorder",
    "make_device",
    "make_profile",
    "start_opcua_sim",
    "type_variables",
]

EDGEX_FIXTURES = Path(__file__).resolve().parents[1] / "ingest" / "drivers" / "opcua" / "fixtures" / "edgex"
"""Reconstructions of EdgeX device-opc-ua's example profile and device file (see the README there)."""

V = ua.VariantType
RANGE = ua.NodeId(ua.ObjectIds.Range, 0)

# valueType, built-in type, value the node holds, value string EdgeX shows, SET text, value the node then holds
TYPE_ROWS: list[tuple[str, ua.VariantType, Any, Any, Any, Any]] = [
    ("Bool", V.Boolean, True, "true", "false", False),
    ("String", V.String, "hello", "hello", "world", "world"),
    ("Uint8", V.Byte, 200, "200", "7", 7),
    ("Int8", V.SByte, -100, "-100", "-5", -5),
    ("Uint16", V.UInt16, 60000, "60000", "1234", 1234),
    ("Int16", V.Int16, -30000, "-30000", "-2", -2),
    ("Uint32", V.UInt32, 4000000000, "4000000000", "123456", 123456),
    ("Int32", V.Int32, -2000000000, "-2000000000", "42", 42),
    ("Uint64", V.UInt64, 2**64 - 1, str(2**64 - 1), "9007199254740993", 9007199254740993),
    ("Int64", V.Int64, -(2**63), str(-(2**63)), "-1", -1),
    ("Float32", V.Float, 1.5, "1.5e+00", "2.25", 2.25),
    ("Float64", V.Double, 39.5, "3.95e+01", "-0.125", -0.125),
    ("BoolArray", V.Boolean, [True, False], "[true, false]", "[false, false, true]", [False, False, True]),
    ("StringArray", V.String, ["a", "b"], '["a","b"]', '["x"]', ["x"]),
    ("Uint8Array", V.Byte, [1, 2, 255], "[1, 2, 255]", "[0, 9]", [0, 9]),
    ("Int8Array", V.SByte, [-128, 127], "[-128, 127]", "[3]", [3]),
    ("Uint16Array", V.UInt16, [65535], "[65535]", "[1, 2, 3]", [1, 2, 3]),
    ("Int16Array", V.Int16, [-1, 1], "[-1, 1]", "[-32768]", [-32768]),
    ("Uint32Array", V.UInt32, [0, 4294967295], "[0, 4294967295]", "[7]", [7]),
    ("Int32Array", V.Int32, [5, -5], "[5, -5]", "[-2147483648, 0]", [-2147483648, 0]),
    ("Uint64Array", V.UInt64, [1, 2], "[1, 2]", "[18446744073709551615]", [2**64 - 1]),
    ("Int64Array", V.Int64, [-3], "[-3]", "[4, 5]", [4, 5]),
    ("Float32Array", V.Float, [1.5, -2.0], "[1.5e+00, -2e+00]", "[0.5]", [0.5]),
    ("Float64Array", V.Double, [39.5, 0.25], "[3.95e+01, 2.5e-01]", "[1e+100, 2]", [1e100, 2.0]),
    ("Binary", V.ByteString, b"\x00\x01\xff", b"\x00\x01\xff", None, None),
    ("Object", V.ExtensionObject, ua.Range(1.0, 2.0), {"Low": 1.0, "High": 2.0}, {"Low": 5, "High": 6.5}, None),
    (
        "ObjectArray",
        V.ExtensionObject,
        [ua.Range(0.0, 1.0), ua.Range(2.0, 3.0)],
        [{"Low": 0.0, "High": 1.0}, {"Low": 2.0, "High": 3.0}],
        [{"Low": -1, "High": 1}],
        None,
    ),
]


def type_node(value_type: str) -> ua.NodeId:
    """``ns=2;s=Types.<valueType>``."""
    return ua.NodeId(f"Types.{value_type}", 2)


def type_variables() -> list[Variable]:
    """One writable node per EdgeX valueType (Binary read-only, as EdgeX requires)."""
    out = []
    for vt, variant, value, *_ in TYPE_ROWS:
        struct = variant is V.ExtensionObject
        out.append(
            Variable(
                vt,
                type_node(vt),
                value,
                variant,
                folder="Types",
                writable=vt != "Binary",
                data_type=RANGE if struct else None,
            )
        )
    return out


def make_profile(name: str, rows: Iterable[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]) -> DeviceProfile:
    """A profile from ``(name, valueType, attributes, extra properties)`` rows (readWrite defaults to RW)."""
    resources = [
        {"name": n, "attributes": dict(a), "properties": {"valueType": vt, "readWrite": "RW", **p}}
        for n, vt, a, p in rows
    ]
    return DeviceProfile.model_validate({"name": name, "deviceResources": resources})


def make_device(
    name: str,
    profile: str,
    endpoint: str,
    *,
    auto_events: Iterable[Mapping[str, Any]] = (),
    service: str = "edgewatch-ingest",
    **props: Any,
) -> Device:
    """An ``opcua`` device on ``endpoint`` (extra protocol properties as keywords)."""
    return Device.model_validate(
        {
            "name": name,
            "profileName": profile,
            "serviceName": service,
            "adminState": "UNLOCKED",
            "operatingState": "UP",
            "protocols": {"opcua": {"Endpoint": endpoint, **props}},
            "autoEvents": list(auto_events),
        }
    )


@dataclass
class Recorder:
    """A DeviceRegistry wired to lists: every event it publishes and every state change it reports."""

    options: OpcUaOptions
    events: list[Event] = field(default_factory=list)
    states: list[tuple[str, str]] = field(default_factory=list)
    registry: DeviceRegistry = field(init=False)

    def __post_init__(self) -> None:
        async def publish(event: Event) -> None:
            self.events.append(event)

        async def state(name: str, value: str) -> None:
            self.states.append((name, value))

        fast = PollerSettings(backoff_max=0.5)  # a DOWN device is probed often: tests wait less
        self.registry = DeviceRegistry("edgewatch-ingest", {"opcua": self.options}, publish, poller=fast)
        self.registry.state_sinks.append(state)

    def values(self, device: str, resource: str) -> list[str | None]:
        """Value strings of the pushed/polled readings of one resource, in order."""
        return [
            r.value if isinstance(r.value, str) or r.value is None else str(r.value)
            for e in self.events
            if e.device_name == device
            for r in e.readings
            if r.resource_name == resource
        ]

    async def close(self) -> None:
        """Stop every device and close the sessions."""
        await self.registry.close()
        await self.options.pool.close()
