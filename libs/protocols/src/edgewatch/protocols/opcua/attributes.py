"""EdgeX device-opc-ua resource attributes, parsed once at profile load into frozen typed models.

EdgeX's own attributes: ``nodeId`` (a variable), or ``objectId`` + ``methodId`` (+ ``inputMap``, the method's
inputs as text) for a method call. edgewatch's monitored-item attributes (any of them makes the resource a
monitored item pushed by a subscription instead of, or beside, autoEvent polling):

``monitored``        true: subscribe to the node (the default for the others below)
``samplingInterval`` milliseconds (a number) or a Go duration ("250ms"); -1 = the publishing interval
``queueSize``        server-side queue per item (default 1: latest value only)
``discardOldest``    true (default): a full queue drops its oldest value; false drops the newest
``deadbandType``     None (default) | Absolute | Percent (of the node's EURange)
``deadbandValue``    the deadband (engineering units for Absolute, 0-100 for Percent)
``dataChangeTrigger`` Status | StatusValue (default) | StatusValueTimestamp
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeVar

from asyncua import ua

from edgewatch.common.contracts.device import parse_go_duration
from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.nodeid import parse_node_id

__all__ = [
    "MONITOR_KEYS",
    "Deadband",
    "MethodCall",
    "MonitorSpec",
    "OpcUaAttributes",
    "Trigger",
    "parse_attributes",
    "parse_bool",
    "parse_millis",
]

E = TypeVar("E", bound=StrEnum)

MONITOR_KEYS: Final = (
    "monitored",
    "samplingInterval",
    "queueSize",
    "discardOldest",
    "deadbandType",
    "deadbandValue",
    "dataChangeTrigger",
)


class Deadband(StrEnum):
    """OPC UA DeadbandType."""

    NONE = "None"
    ABSOLUTE = "Absolute"
    PERCENT = "Percent"

    @property
    def code(self) -> int:
        """The wire value (ua.DeadbandType)."""
        return {"None": 0, "Absolute": 1, "Percent": 2}[self.value]


class Trigger(StrEnum):
    """OPC UA DataChangeTrigger."""

    STATUS = "Status"
    STATUS_VALUE = "StatusValue"
    STATUS_VALUE_TIMESTAMP = "StatusValueTimestamp"

    @property
    def code(self) -> int:
        """The wire value (ua.DataChangeTrigger)."""
        return {"Status": 0, "StatusValue": 1, "StatusValueTimestamp": 2}[self.value]


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """How one resource is monitored (one MonitoredItem)."""

    sampling_interval: float = -1.0  # ms; -1 = the subscription's publishing interval
    queue_size: int = 1
    discard_oldest: bool = True
    deadband: Deadband = Deadband.NONE
    deadband_value: float = 0.0
    trigger: Trigger = Trigger.STATUS_VALUE

    def data_change_filter(self) -> ua.DataChangeFilter:
        """The MonitoringFilter sent to the server."""
        f = ua.DataChangeFilter()
        f.Trigger = ua.DataChangeTrigger(self.trigger.code)
        f.DeadbandType = self.deadband.code
        f.DeadbandValue = self.deadband_value
        return f


@dataclass(frozen=True, slots=True)
class MethodCall:
    """A method resource: call ``method_id`` on ``object_id`` with ``inputs`` (EdgeX ``inputMap``, as text)."""

    object_id: ua.NodeId
    method_id: ua.NodeId
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OpcUaAttributes:
    """Where one resource lives on the server: a variable (``node_id``) or a method call (``method``)."""

    value_type: ValueType
    node_id: ua.NodeId | None = None
    method: MethodCall | None = None
    monitor: MonitorSpec | None = None

    @property
    def node_text(self) -> str:
        """The node (or method) as text, for messages."""
        if self.node_id is not None:
            return str(self.node_id.to_string())
        assert self.method is not None
        return f"{self.method.object_id.to_string()} / {self.method.method_id.to_string()}"


def parse_bool(value: Any, key: str, device: str = "", resource: str = "") -> bool:
    """A YAML bool or its text (EdgeX attributes may be strings).

    Raises:
        ProfileConfigError: not a boolean.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    raise ProfileConfigError(f"{key} {value!r} is not true or false", device=device, resource=resource)


def parse_millis(value: Any, key: str, device: str = "", resource: str = "", *, allow_negative: bool = False) -> float:
    """Milliseconds from a number or a Go duration (``"250ms"``, ``"1s"``).

    Raises:
        ProfileConfigError: neither, or negative where not allowed (the message names the key).
    """
    if isinstance(value, bool):
        raise ProfileConfigError(f"{key} {value!r} is not a duration", device=device, resource=resource)
    if isinstance(value, int | float):
        ms = float(value)
    else:
        text = str(value).strip()
        try:
            ms = float(text)
        except ValueError:
            try:
                ms = parse_go_duration(text) / 1e6
            except ValueError:
                raise ProfileConfigError(
                    f"{key} {value!r} is not milliseconds or a Go duration", device=device, resource=resource
                ) from None
    if not math.isfinite(ms) or (ms < 0 and not (allow_negative and ms == -1)):
        raise ProfileConfigError(f"{key} {value!r} must be >= 0 ms", device=device, resource=resource)
    return ms


def _inputs(raw: Any, device: str, resource: str) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        return tuple(p.strip() for p in raw.split(","))
    if isinstance(raw, Sequence):
        return tuple("" if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for v in raw)
    raise ProfileConfigError(f"inputMap {raw!r} must be a list of input values", device=device, resource=resource)


def _monitor(attrs: Mapping[str, Any], device: str, resource: str) -> MonitorSpec | None:
    if not any(k in attrs for k in MONITOR_KEYS):
        return None
    if "monitored" in attrs and not parse_bool(attrs["monitored"], "monitored", device, resource):
        return None
    spec: dict[str, Any] = {}
    if "samplingInterval" in attrs:
        spec["sampling_interval"] = parse_millis(
            attrs["samplingInterval"], "samplingInterval", device, resource, allow_negative=True
        )
    if "queueSize" in attrs:
        try:
            size = int(str(attrs["queueSize"]).strip())
        except ValueError:
            size = 0
        if size < 1:
            raise ProfileConfigError(
                f"queueSize {attrs['queueSize']!r} must be an integer >= 1", device=device, resource=resource
            )
        spec["queue_size"] = size
    if "discardOldest" in attrs:
        spec["discard_oldest"] = parse_bool(attrs["discardOldest"], "discardOldest", device, resource)
    if "deadbandType" in attrs:
        spec["deadband"] = _enum(Deadband, attrs["deadbandType"], "deadbandType", device, resource)
    if "deadbandValue" in attrs:
        try:
            value = float(attrs["deadbandValue"])
        except (TypeError, ValueError):
            value = -1.0
        if not math.isfinite(value) or value < 0:
            raise ProfileConfigError(
                f"deadbandValue {attrs['deadbandValue']!r} must be a number >= 0", device=device, resource=resource
            )
        spec["deadband_value"] = value
    if "dataChangeTrigger" in attrs:
        spec["trigger"] = _enum(Trigger, attrs["dataChangeTrigger"], "dataChangeTrigger", device, resource)
    out = MonitorSpec(**spec)
    if out.deadband is Deadband.PERCENT and out.deadband_value > 100:
        raise ProfileConfigError("deadbandValue of a Percent deadband must be 0..100", device=device, resource=resource)
    return out


def _enum(cls: type[E], value: Any, key: str, device: str, resource: str) -> E:
    text = str(value).strip().lower()
    for member in cls:
        if member.value.lower() == text:
            return member
    names = ", ".join(m.value for m in cls)
    raise ProfileConfigError(f"{key} {value!r} is not one of {names}", device=device, resource=resource)


def parse_attributes(
    attrs: Mapping[str, Any] | None,
    value_type: ValueType | str,
    *,
    device: str = "",
    resource: str = "",
    monitored: bool = False,
) -> OpcUaAttributes:
    """Parse one resource's attributes (``monitored``: the device asks to subscribe to it without attributes).

    Raises:
        ProfileConfigError: a missing or invalid attribute; the message names device, resource and key.
    """
    attrs = attrs or {}
    vt = value_type if isinstance(value_type, ValueType) else ValueType.parse(value_type)
    if "methodId" in attrs or "objectId" in attrs:
        if "methodId" not in attrs or "objectId" not in attrs:
            raise ProfileConfigError(
                "a method resource needs both objectId and methodId", device=device, resource=resource
            )
        method = MethodCall(
            object_id=parse_node_id(attrs["objectId"], device=device, resource=resource, key="objectId"),
            method_id=parse_node_id(attrs["methodId"], device=device, resource=resource, key="methodId"),
            inputs=_inputs(attrs.get("inputMap"), device, resource),
        )
        if any(k in attrs for k in MONITOR_KEYS) or monitored:
            raise ProfileConfigError("a method resource cannot be monitored", device=device, resource=resource)
        return OpcUaAttributes(value_type=vt, method=method)
    if "nodeId" not in attrs:
        raise ProfileConfigError(
            "attribute nodeId is required (or objectId + methodId for a method)", device=device, resource=resource
        )
    node = parse_node_id(attrs["nodeId"], device=device, resource=resource)
    monitor = _monitor(attrs, device, resource)
    if monitor is None and monitored and parse_bool(attrs.get("monitored", True), "monitored", device, resource):
        monitor = MonitorSpec()
    if monitor is not None and monitor.deadband is not Deadband.NONE and not (vt.is_numeric or vt.is_numeric_array):
        raise ProfileConfigError(f"a deadband needs a numeric valueType, not {vt}", device=device, resource=resource)
    return OpcUaAttributes(value_type=vt, node_id=node, monitor=monitor)
