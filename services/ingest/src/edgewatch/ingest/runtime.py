"""DeviceRuntime: one device, its profile compiled once, and its driver.

Compiles resources, transforms, commands and AutoEvents at load; turns driver values into EdgeX readings and
command settings into driver writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.errors import ContractInvalidError, ErrorKind, NotFoundError
from edgewatch.common.contracts.event import Event, Reading, new_event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for
from edgewatch.common.contracts.namepattern import fullmatches
from edgewatch.common.contracts.profile import DeviceProfile, readable, writable
from edgewatch.common.contracts.values import ValueFormatError, format_value, parse_value
from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.ingest.drivers.base import PollingDriver, Sample
from edgewatch.ingest.errors import IngestError
from edgewatch.protocols.errors import ProfileConfigError, ProtocolError, TransformOverflowError
from edgewatch.protocols.transform import Transform

__all__ = ["AutoEventJob", "CommandOp", "DeviceRuntime", "ReadResult", "ResourceSpec"]

_OBJECTS = (ValueType.OBJECT, ValueType.OBJECT_ARRAY)


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """One device resource, compiled."""

    name: str
    value_type: ValueType
    read_write: str
    transform: Transform
    units: str
    default_value: str
    tags: dict[str, Any] | None
    media_type: str = ""


@dataclass(slots=True)
class ReadResult:
    """What one read gave: values after transforms, errors by resource (no reading), and the samples of drivers
    that deliver origins, tags or bad qualities with their values (``values`` holds None for a bad sample)."""

    values: dict[str, Any]
    errors: dict[str, ProtocolError]
    samples: dict[str, Sample]


@dataclass(frozen=True, slots=True)
class CommandOp:
    """One resource operation of a command (mappings: device value string -> shown string)."""

    resource: str
    default_value: str = ""
    mappings: Mapping[str, str] | None = None


@dataclass(slots=True)
class AutoEventJob:
    """One AutoEvent: which resources it reads, how often, and what it last published (onChange)."""

    source: str
    resources: tuple[str, ...]
    interval: float
    on_change: bool
    threshold: float
    ops: tuple[CommandOp, ...] = ()
    per_resource: bool = False  # a regex source: one event per matched resource (a regex is no subject token)
    next_due: float = 0.0
    last: dict[str, Any] = field(default_factory=dict)

    def changed(self, values: Mapping[str, Any]) -> bool:
        """onChange filter: True when any value moved by more than the threshold (or on the first cycle)."""
        if not self.on_change or not self.last:
            return True
        for name, v in values.items():
            old = self.last.get(name)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(old, (int, float)):
                if abs(float(v) - float(old)) > self.threshold:
                    return True
            elif v != old:
                return True
        return False


class DeviceRuntime:
    """A device, its compiled profile and its driver."""

    def __init__(self, device: Device, profile: DeviceProfile, driver: PollingDriver) -> None:
        self.device = device
        self.profile = profile
        self.driver = driver
        self.resources: dict[str, ResourceSpec] = {}
        self._last_origin = 0  # origins strictly increase per device, so derived event ids never repeat
        for r in profile.device_resources:
            vt = ValueType(r.properties.value_type)
            try:
                transform = Transform.from_properties(vt.value, r.properties)
            except ValueError as e:
                raise ProfileConfigError(
                    f"invalid transform property: {e}", device=device.name, resource=r.name
                ) from None
            self.resources[r.name] = ResourceSpec(
                r.name,
                vt,
                r.properties.read_write,
                transform,
                r.properties.units,
                r.properties.default_value,
                r.tags,
                r.properties.media_type,
            )
        self.commands: dict[str, tuple[str, tuple[CommandOp, ...]]] = {
            c.name: (
                c.read_write,
                tuple(CommandOp(op.device_resource, op.default_value, op.mappings) for op in c.resource_operations),
            )
            for c in profile.device_commands
        }
        self.jobs = [self._job(i, ae) for i, ae in enumerate(device.auto_events or [])]

    @property
    def name(self) -> str:
        """Device name."""
        return self.device.name

    def _job(self, index: int, ae: Any) -> AutoEventJob:
        source = ae.source_name
        ops: tuple[CommandOp, ...] = ()
        if source in self.commands:
            ops = self.commands[source][1]
            names = tuple(op.resource for op in ops)
        elif source in self.resources:
            names = (source,)
        else:
            names = tuple(fullmatches(source, self.resources))
            if not names:
                raise ProfileConfigError(
                    f"autoEvents[{index}].sourceName {source!r} is no resource, command or matching regex",
                    device=self.name,
                )
        unreadable = [n for n in names if not readable(self.resources[n].read_write)]
        if unreadable:
            raise ProfileConfigError(f"autoEvents[{index}] {source!r}: {unreadable} not readable", device=self.name)
        regex = source not in self.commands and source not in self.resources
        threshold = ae.on_change_threshold or 0.0
        return AutoEventJob(source, names, ae.interval_seconds, ae.on_change, threshold, ops, per_resource=regex)

    def resolve(self, command: str, method: str, *, regex: bool = False) -> tuple[CommandOp, ...]:
        """The operations of a GET/SET on a command or a resource name (``regex``: a GET may name resources by a
        regular expression, the SDK's ``ds-regexcmd``).

        Raises:
            NotFoundError (404): neither a command nor a resource.
            IngestError NOT_ALLOWED (405): readWrite forbids the method.
        """
        if command in self.commands:
            rw, ops = self.commands[command]
        elif command in self.resources:
            rw, ops = self.resources[command].read_write, (CommandOp(command),)
        elif regex and method == "get" and (matched := self._regex_resources(command)):
            rw, ops = "R", tuple(CommandOp(n) for n in matched)
        else:
            raise NotFoundError(f"device {self.name!r} has no command or resource {command!r}", field="command")
        allowed = readable(rw) if method == "get" else writable(rw)
        if not allowed:
            raise IngestError(
                f"command {command!r} is readWrite {rw}; {method.upper()} is not allowed",
                device=self.name,
                kind=ErrorKind.NOT_ALLOWED,
            )
        return ops

    def _regex_resources(self, pattern: str) -> list[str]:
        return fullmatches(pattern, [n for n, r in self.resources.items() if readable(r.read_write)])

    async def read(self, names: Sequence[str]) -> ReadResult:
        """Read resources and apply read transforms.

        Raises:
            DeviceIOError: the device failed.
        """
        raw = await self.driver.read(names)
        out: dict[str, Any] = {}
        errors: dict[str, ProtocolError] = {}
        samples: dict[str, Sample] = {}
        for n, v in raw.items():
            if isinstance(v, Sample):
                if v.error is not None:
                    errors[n] = v.error
                    continue
                samples[n] = v
                if not v.good:
                    out[n] = None
                    continue
                v = v.value
            try:
                out[n] = self.resources[n].transform.read(v)
            except TransformOverflowError as e:
                errors[n] = TransformOverflowError(e.message, device=self.name, resource=n)
        return ReadResult(out, errors, samples)

    async def read_values(self, names: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
        """:meth:`read` as (values, error message by resource)."""
        got = await self.read(names)
        return got.values, {n: e.message for n, e in got.errors.items()}

    def reading(
        self,
        name: str,
        value: Any,
        origin: int,
        mappings: Mapping[str, str] | None = None,
        id: str | None = None,
        sample: Sample | None = None,
    ) -> Reading:
        """An EdgeX reading (Go value string); a mapped value becomes a String reading, as in the device SDK.

        ``sample``: what the driver said about the value: its origin and tags win, and a bad sample becomes a null
        reading (EdgeX 4) carrying the tags, never a good reading.
        """
        spec = self.resources[name]
        tags = spec.tags
        if sample is not None:
            if sample.origin is not None:
                origin = sample.origin
            if sample.tags:
                tags = {**spec.tags, **sample.tags} if spec.tags else dict(sample.tags)
            if not sample.good:
                null = Reading.null(self.name, self.profile.name, name, spec.value_type, origin=origin, id=id)
                return null.model_copy(update={"tags": tags or {}, "units": spec.units})
        if mappings:
            text = format_value(spec.value_type, value)
            if text in mappings:
                return Reading.simple(
                    self.name,
                    self.profile.name,
                    name,
                    ValueType.STRING,
                    mappings[text],
                    origin=origin,
                    units=spec.units,
                    id=id,
                )
        if spec.value_type is ValueType.BINARY:
            media = spec.media_type or "application/octet-stream"
            return Reading.binary(self.name, self.profile.name, name, value, media, origin=origin, tags=tags, id=id)
        if spec.value_type in _OBJECTS:
            array = spec.value_type is ValueType.OBJECT_ARRAY
            return Reading.object(
                self.name, self.profile.name, name, value, array=array, origin=origin, tags=tags, id=id
            )
        return Reading.simple(
            self.name,
            self.profile.name,
            name,
            spec.value_type,
            value,
            origin=origin,
            units=spec.units,
            tags=tags,
            id=id,
        )

    def event(
        self,
        source: str,
        values: Mapping[str, Any],
        ops: Sequence[CommandOp] | None = None,
        samples: Mapping[str, Sample] | None = None,
    ) -> Event | None:
        """One event for ``source`` from read values (None when no reading survived); ``samples`` give readings
        their own origins and tags."""
        origin = max(time.time_ns(), self._last_origin + 1)
        self._last_origin = origin
        maps = {op.resource: op.mappings for op in ops or ()}
        got = samples or {}
        # Name-based ids (contracts.ids): unique per device/source/origin and free on the sync uplink.
        event_id = event_id_for(self.name, source, origin)
        readings = [
            self.reading(n, v, origin, maps.get(n), reading_id_for(event_id, i), got.get(n))
            for i, (n, v) in enumerate(values.items())
        ]
        if not readings:
            return None
        tags = dict(self.device.tags) if self.device.tags else None  # device tags ride on events, as in the SDK
        return new_event(self.name, self.profile.name, source, readings, origin=origin, id=event_id, tags=tags)

    def settings_to_values(self, ops: Sequence[CommandOp], settings: Mapping[str, Any]) -> dict[str, Any]:
        """Turn a SET request's flat map into typed values to write (mappings reversed, defaults, limits,
        inverse transforms). Only resources named in the request, or with a default, are written.

        Raises:
            ContractInvalidError (400): a value does not parse, or is outside minimum/maximum.
        """
        values: dict[str, Any] = {}
        for op in ops:
            spec = self.resources[op.resource]
            raw = settings.get(op.resource)
            if raw is None:
                raw = op.default_value or (spec.default_value if len(ops) == 1 else "")
                if raw == "":
                    continue
            if op.mappings and isinstance(raw, str):
                reverse = {v: k for k, v in op.mappings.items()}
                raw = reverse.get(raw, raw)
            if spec.value_type in _OBJECTS:  # any JSON: given as JSON, or as JSON text
                values[op.resource] = _object_value(raw, self.name, op.resource)
                continue
            try:
                if isinstance(raw, str):
                    value = parse_value(spec.value_type, raw)
                elif isinstance(raw, list) or spec.value_type.is_array:
                    value = parse_value(spec.value_type, raw if isinstance(raw, str) else _json(raw))
                else:
                    value = parse_value(spec.value_type, _json(raw))
            except ValueFormatError as e:
                raise ValueFormatError(f"{self.name}/{op.resource}: {e.message}", field=op.resource) from None
            try:
                values[op.resource] = spec.transform.write(value)
            except ProtocolError as e:
                raise type(e)(e.message, device=self.name, resource=op.resource) from None
        if not values:
            raise ContractInvalidError("no value given for any resource of the command", field="settings")
        return values


def _object_value(raw: Any, device: str, resource: str) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ValueFormatError(f"{device}/{resource}: Object value is not JSON", field=resource) from None


def _json(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v) if not isinstance(v, str) else v
