"""EdgeX valueType <-> OPC UA DataType and Variant, in both directions, checked.

Writes build the Variant from the *node's* DataType and ValueRank (read from the server), never from the EdgeX
valueType alone: an Int32 node gets an Int32 Variant even when the resource says Int64 or Float64, and a value
that does not fit (out of range, a fraction for an integer node, an array for a scalar node) is refused before it
is sent (EdgeX device-opc-ua sends the valueType's Variant and the server answers BadTypeMismatch, #6).
Reads turn the node's value into the resource's valueType with the same checks.

Object / ObjectArray resources map to OPC UA structures (ExtensionObjects) as JSON objects keyed by field name;
Binary maps to ByteString; DateTime nodes read as ISO 8601 text (String) or Unix nanoseconds (Int64).
"""

from __future__ import annotations

import base64
import dataclasses
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

from asyncua import ua

from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.protocols.opcua.errors import OpcUaTypeError
from edgewatch.protocols.values import INT_RANGES, to_float32

__all__ = [
    "VALUE_TYPE_VARIANTS",
    "NodeType",
    "data_type_id",
    "from_variant",
    "struct_class",
    "to_jsonable",
    "to_unix_ns",
    "to_variant",
    "value_type_for",
    "variant_type_of",
]

V = ua.VariantType
VT = ValueType

#: EdgeX (element) value type -> the OPC UA built-in type that holds it natively.
VALUE_TYPE_VARIANTS: Final[Mapping[ValueType, ua.VariantType]] = {
    VT.BOOL: V.Boolean,
    VT.STRING: V.String,
    VT.UINT8: V.Byte,
    VT.INT8: V.SByte,
    VT.UINT16: V.UInt16,
    VT.INT16: V.Int16,
    VT.UINT32: V.UInt32,
    VT.INT32: V.Int32,
    VT.UINT64: V.UInt64,
    VT.INT64: V.Int64,
    VT.FLOAT32: V.Float,
    VT.FLOAT64: V.Double,
    VT.BINARY: V.ByteString,
    VT.OBJECT: V.ExtensionObject,
}

_INT_VARIANTS: Final[Mapping[ua.VariantType, tuple[int, int]]] = {
    V.SByte: INT_RANGES["Int8"],
    V.Byte: INT_RANGES["Uint8"],
    V.Int16: INT_RANGES["Int16"],
    V.UInt16: INT_RANGES["Uint16"],
    V.Int32: INT_RANGES["Int32"],
    V.UInt32: INT_RANGES["Uint32"],
    V.Int64: INT_RANGES["Int64"],
    V.UInt64: INT_RANGES["Uint64"],
    V.StatusCode: INT_RANGES["Uint32"],
}
_FLOAT_VARIANTS: Final = frozenset((V.Float, V.Double))
_TEXT_VARIANTS: Final = frozenset((V.String, V.LocalizedText, V.QualifiedName, V.NodeId, V.Guid, V.DateTime))

# Standard DataTypes that are subtypes of a built-in type (ns=0), so no server round trip is needed for them.
_SUBTYPES: Final[Mapping[int, ua.VariantType]] = {
    29: V.Int32,  # Enumeration
    288: V.UInt32,  # IntegerId
    289: V.UInt32,  # Counter
    290: V.Double,  # Duration
    294: V.DateTime,  # UtcTime
    295: V.String,  # LocaleId
    311: V.ByteString,  # ApplicationInstanceCertificate
    12877: V.String,  # NormalizedString
    12878: V.String,  # DecimalString
    12879: V.String,  # DurationString
    12880: V.String,  # TimeString
    12881: V.String,  # DateString
    22: V.ExtensionObject,  # Structure
}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeType:
    """What a node holds: its built-in type, its ValueRank (-1 scalar, >=1 array, 0/-2/-3 either) and DataType."""

    variant_type: ua.VariantType
    value_rank: int = -1
    data_type: ua.NodeId = dataclasses.field(default_factory=ua.NodeId)

    @property
    def scalar_only(self) -> bool:
        """True when the node holds a scalar only."""
        return self.value_rank == -1

    @property
    def array_only(self) -> bool:
        """True when the node holds an array only."""
        return self.value_rank >= 1


def data_type_id(value_type: ValueType) -> ua.NodeId:
    """The DataType NodeId for a (non-Object) EdgeX value type (built-in types have DataType id = type id)."""
    return ua.NodeId(int(VALUE_TYPE_VARIANTS[value_type.element]), 0)


def variant_type_of(data_type: ua.NodeId) -> ua.VariantType | None:
    """The built-in type of a standard DataType, or None when only the server can tell (a vendor subtype)."""
    if data_type.NamespaceIndex != 0 or not isinstance(data_type.Identifier, int):
        return None
    ident = data_type.Identifier
    if 1 <= ident <= 25:
        return ua.VariantType(ident)
    return _SUBTYPES.get(ident)


def to_unix_ns(stamp: datetime) -> int:
    """Unix nanoseconds of a datetime (naive values are UTC, as asyncua decodes them)."""
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return ((stamp - _EPOCH) // timedelta(microseconds=1)) * 1000


# ---------------------------------------------------------------------------------------------------- writes


def _mismatch(why: str, device: str, resource: str) -> OpcUaTypeError:
    return OpcUaTypeError(why, device=device, resource=resource)


def _scalar_to(value: Any, node: NodeType, device: str, resource: str) -> Any:
    vt = node.variant_type
    if vt in _INT_VARIANTS:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _mismatch(f"value {value!r} does not fit the node's DataType {vt.name}", device, resource)
        lo, hi = _INT_VARIANTS[vt]
        if not lo <= value <= hi:
            raise _mismatch(f"value {value} is outside the node's DataType {vt.name} ({lo}..{hi})", device, resource)
        return ua.StatusCode(value) if vt is V.StatusCode else value
    if vt in _FLOAT_VARIANTS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _mismatch(f"value {value!r} does not fit the node's DataType {vt.name}", device, resource)
        number = float(value)
        if vt is V.Float and math.isfinite(number) and math.isinf(to_float32(number)):
            raise _mismatch(f"value {value} is outside the node's DataType Float", device, resource)
        return number
    if vt is V.Boolean:
        if not isinstance(value, bool):
            raise _mismatch(f"value {value!r} does not fit the node's DataType Boolean", device, resource)
        return value
    if vt in _TEXT_VARIANTS:
        return _text_to(value, vt, device, resource)
    if vt is V.ByteString:
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, list) and all(isinstance(b, int) and not isinstance(b, bool) for b in value):
            try:
                return bytes(value)
            except ValueError:
                raise _mismatch("ByteString elements must be 0..255", device, resource) from None
        raise _mismatch(f"value {value!r} does not fit the node's DataType ByteString", device, resource)
    if vt is V.ExtensionObject:
        return _struct_to(value, node, device, resource)
    raise _mismatch(f"writing the node's DataType {vt.name} is not supported", device, resource)


def _text_to(value: Any, vt: ua.VariantType, device: str, resource: str) -> Any:
    if vt is V.DateTime:
        if isinstance(value, int) and not isinstance(value, bool):
            return _EPOCH + timedelta(microseconds=value // 1000)
        if isinstance(value, str):
            try:
                stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise _mismatch(
                    f"value {value!r} is not an ISO 8601 time for a DateTime node", device, resource
                ) from None
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        raise _mismatch(f"value {value!r} does not fit the node's DataType DateTime", device, resource)
    if not isinstance(value, str):
        raise _mismatch(f"value {value!r} does not fit the node's DataType {vt.name}", device, resource)
    try:
        if vt is V.LocalizedText:
            return ua.LocalizedText(value)
        if vt is V.QualifiedName:
            return ua.QualifiedName.from_string(value)
        if vt is V.NodeId:
            return ua.NodeId.from_string(value)
        if vt is V.Guid:
            return uuid.UUID(value)
    except (ValueError, ua.UaError) as e:
        raise _mismatch(f"value {value!r} is not a valid {vt.name}: {e}", device, resource) from None
    return value


def struct_class(data_type: ua.NodeId) -> type | None:
    """The asyncua class of a structure DataType: the standard ones, and those loaded from the server."""
    cls: type | None = ua.extension_objects_by_datatype.get(data_type)
    if cls is not None:
        return cls
    for candidate in ua.extension_objects_by_typeid.values():  # standard types register by encoding id only
        if getattr(candidate, "data_type", None) == data_type:
            found: type = candidate
            return found
    return None


def _struct_to(value: Any, node: NodeType, device: str, resource: str) -> Any:
    cls = struct_class(node.data_type)
    if cls is None:
        raise _mismatch(
            f"the node's structure DataType {node.data_type.to_string()} is not known to the client", device, resource
        )
    if not isinstance(value, Mapping):
        raise _mismatch(f"a {cls.__name__} structure needs a JSON object, got {value!r}", device, resource)
    return _build_struct(cls, value, device, resource)


def _build_struct(cls: type, value: Mapping[str, Any], device: str, resource: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - names)
    if unknown:
        raise _mismatch(f"{cls.__name__} has no field(s) {unknown}; it has {sorted(names)}", device, resource)
    hints = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        f = hints[key]
        factory: Any = f.default_factory
        default: Any = factory() if callable(factory) else (None if f.default is dataclasses.MISSING else f.default)
        if dataclasses.is_dataclass(default) and isinstance(item, Mapping):
            item = _build_struct(type(default), item, device, resource)
        elif isinstance(default, float) and isinstance(item, int) and not isinstance(item, bool):
            item = float(item)
        elif isinstance(default, ua.LocalizedText) and isinstance(item, str):
            item = ua.LocalizedText(item)
        kwargs[key] = item
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise _mismatch(f"cannot build {cls.__name__}: {e}", device, resource) from None


def to_variant(value: Any, node: NodeType, *, device: str = "", resource: str = "") -> ua.Variant:
    """The Variant that writes ``value`` (a resource value after EdgeX parsing) to a node of type ``node``.

    Raises:
        OpcUaTypeError (400): the value does not fit the node's DataType or ValueRank; names the resource.
    """
    vt = node.variant_type
    if isinstance(value, list) and not (vt is V.ByteString and node.scalar_only):
        if node.scalar_only:
            raise _mismatch(
                f"the node holds a scalar {vt.name} (ValueRank -1); an array of {len(value)} cannot be written",
                device,
                resource,
            )
        return ua.Variant([_scalar_to(v, node, device, resource) for v in value], vt, is_array=True)
    if node.array_only:
        raise _mismatch(
            f"the node holds an array of {vt.name} (ValueRank {node.value_rank}); a scalar cannot be written",
            device,
            resource,
        )
    return ua.Variant(_scalar_to(value, node, device, resource), vt)


# ----------------------------------------------------------------------------------------------------- reads


def to_jsonable(value: Any) -> Any:
    """A JSON-ready form of any decoded OPC UA value (structures become objects keyed by field name)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, ua.QualifiedName | ua.NodeId):
        return value.to_string()
    if isinstance(value, ua.StatusCode):
        return int(value.value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    return str(value)


def _scalar_from(raw: Any, target: ValueType, device: str, resource: str) -> Any:
    if target is VT.BOOL:
        if isinstance(raw, bool):
            return raw
    elif target is VT.STRING:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, ua.LocalizedText):
            return raw.Text or ""
        if isinstance(raw, ua.QualifiedName | ua.NodeId | uuid.UUID | datetime):
            return str(to_jsonable(raw))
    elif target.is_integer:
        if isinstance(raw, ua.StatusCode):
            raw = int(raw.value)
        if isinstance(raw, datetime) and target is VT.INT64:
            return to_unix_ns(raw)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            lo, hi = INT_RANGES[target.value]
            if not lo <= raw <= hi:
                raise _mismatch(f"node value {raw} does not fit valueType {target} ({lo}..{hi})", device, resource)
            return raw
    elif target.is_float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            number = float(raw)
            if target is VT.FLOAT32:
                rounded = to_float32(number)
                if math.isinf(rounded) and math.isfinite(number):
                    raise _mismatch(f"node value {raw} does not fit valueType Float32", device, resource)
                return rounded
            return number
    elif target is VT.BINARY:
        if isinstance(raw, bytes | bytearray):
            return bytes(raw)
    elif target is VT.OBJECT:
        return to_jsonable(raw)
    raise _mismatch(f"node value {raw!r} ({type(raw).__name__}) does not fit valueType {target}", device, resource)


def from_variant(raw: Any, value_type: ValueType, *, device: str = "", resource: str = "") -> Any:
    """The resource value (before EdgeX transforms) of a node value decoded by asyncua.

    Raises:
        OpcUaTypeError (400): the node's value does not fit the valueType; names the resource.
    """
    if value_type is VT.OBJECT_ARRAY:
        items = raw if isinstance(raw, list | tuple) else [raw]
        return [to_jsonable(v) for v in items]
    if value_type.is_array:
        element = value_type.element
        if isinstance(raw, bytes | bytearray) and element is VT.UINT8:
            return list(bytes(raw))
        if not isinstance(raw, list | tuple):
            raise _mismatch(f"node value {raw!r} is a scalar; valueType {value_type} needs an array", device, resource)
        return [_scalar_from(v, element, device, resource) for v in raw]
    if isinstance(raw, list | tuple) and value_type is not VT.OBJECT:
        raise _mismatch(f"node value is an array of {len(raw)}; valueType {value_type} is a scalar", device, resource)
    return _scalar_from(raw, value_type, device, resource)


def value_type_for(variant_type: ua.VariantType, value_rank: int) -> ValueType | None:
    """The EdgeX valueType a browsed variable maps to, or None when EdgeX has no equivalent."""
    array = value_rank >= 0
    if variant_type is V.ExtensionObject:
        return VT.OBJECT_ARRAY if array else VT.OBJECT
    if variant_type is V.ByteString:
        return None if array else VT.BINARY
    if variant_type in _TEXT_VARIANTS:
        scalar = VT.STRING
    elif variant_type is V.StatusCode:
        scalar = VT.UINT32
    else:
        found = next((k for k, v in VALUE_TYPE_VARIANTS.items() if v is variant_type and not k.is_array), None)
        if found is None:
            return None
        scalar = found
    return scalar.array if array else scalar
