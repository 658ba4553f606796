"""EdgeX Reading DTO (dtos.BaseReading): simple, binary, object and v4 null forms, with a parsed-value cache."""

from __future__ import annotations

import base64
import binascii
import math
import sys
import time
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import MISSING, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from edgewatch.common.contracts.base import EdgeXModel, empty
from edgewatch.common.contracts.pydanticadapter import construct
from edgewatch.common.contracts.values import (
    ValueFormatError,
    format_value,
    parse_array,
    parse_value,
    to_float32,
)
from edgewatch.common.contracts.valuetype import ValueType

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Reading"]

_OBJECT_TYPES = (ValueType.OBJECT, ValueType.OBJECT_ARRAY)


def _is_ndarray(value: Any) -> bool:
    """Whether ``value`` is a numpy array (without loading numpy: none exists before it is loaded)."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray)


def _b64(data: bytes) -> str:
    # Go encodes []byte with base64.StdEncoding (pydantic's own base64 mode is URL-safe).
    return base64.b64encode(data).decode("ascii")


def _omit_bytes(value: Any) -> bool:
    return value is MISSING or value == b""


def _omit_str(value: Any) -> bool:
    return value is MISSING or value == ""


Base64Bytes = Annotated[bytes, PlainSerializer(_b64, when_used="json")]


class Reading(EdgeXModel):
    """One reading: simple (``value``), binary (``binaryValue`` + ``mediaType``), object (``objectValue``) or null.

    Unknown top-level keys are kept and re-emitted (palau 4.0.3 extensions). Simple values are checked against
    ``valueType`` on validation and the parsed value is cached for :meth:`typed_value` and :meth:`array`.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field("", exclude_if=empty)
    origin: int = Field(0, exclude_if=empty)
    device_name: str = Field("", exclude_if=empty)
    resource_name: str = Field("", exclude_if=empty)
    profile_name: str = Field("", exclude_if=empty)
    value_type: ValueType
    units: str = Field("", exclude_if=empty)
    tags: dict[str, Any] = Field(default_factory=dict, exclude_if=empty)
    value: str | bool | int | float | MISSING | None = MISSING
    binary_value: Base64Bytes | MISSING | None = Field(MISSING, exclude_if=_omit_bytes)
    media_type: str | MISSING = Field(MISSING, exclude_if=_omit_str)
    object_value: Any = MISSING

    # The parsed value is cached in __pydantic_private__["_typed"] by _cache(); no PrivateAttr is declared because
    # that makes pydantic run an init hook for every reading (measurable on the decode hot path).

    @field_validator("value_type", mode="before")
    @classmethod
    def _known_value_type(cls, v: Any) -> Any:
        if isinstance(v, str) and not isinstance(v, ValueType):
            return ValueType.parse(v)
        return v

    @field_validator("binary_value", mode="before")
    @classmethod
    def _binary_from_wire(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                return base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("binaryValue is not valid base64") from None
        if isinstance(v, list):  # the openapi examples show binaryValue as an array of byte values
            try:
                return bytes(v)
            except (TypeError, ValueError):
                raise ValueError("binaryValue array must hold integers 0..255") from None
        return v

    @model_validator(mode="after")
    def _check_form(self) -> Self:
        # Runs once per decoded reading: writes go to __dict__ directly (pydantic's __setattr__ is slow).
        d = self.__dict__
        vt = d["value_type"]
        if vt is ValueType.BINARY:
            if d["binary_value"] is MISSING or d["binary_value"] is None:
                return self._make_null()
            if d["media_type"] is MISSING or not d["media_type"]:
                raise ValueError("mediaType is required with binaryValue")
            d["value"] = d["object_value"] = MISSING
            self._cache(d["binary_value"])
        elif vt in _OBJECT_TYPES:
            if d["object_value"] is MISSING or d["object_value"] is None:
                return self._make_null()
            d["value"] = d["binary_value"] = d["media_type"] = MISSING
            self._cache(d["object_value"])
        else:
            value = d["value"]
            if value is MISSING or value is None:
                return self._make_null()
            if d["binary_value"] is not MISSING or d["media_type"] is not MISSING or d["object_value"] is not MISSING:
                d["binary_value"] = d["media_type"] = d["object_value"] = MISSING
            if type(value) is str:
                self._cache(_parse_cached(vt, value))
            elif vt.is_numeric or vt is ValueType.BOOL:
                self._cache(value)  # ?numeric=true shape: the value is already a JSON number
            else:
                raise ValueError(f"value must be a string for valueType {vt}")
        return self

    def _make_null(self) -> Self:
        d = self.__dict__
        d["value"] = d["binary_value"] = d["object_value"] = None
        d["media_type"] = MISSING
        self._cache(None)
        return self

    def _cache(self, typed: Any) -> None:
        private = self.__pydantic_private__
        if private is None:
            object.__setattr__(self, "__pydantic_private__", {"_typed": typed})
        else:
            private["_typed"] = typed

    def _cached(self) -> Any:
        private = self.__pydantic_private__
        return MISSING if private is None else private.get("_typed", MISSING)

    # ------------------------------------------------------------------------------------------ constructors

    @classmethod
    def simple(
        cls,
        device: str,
        profile: str,
        resource: str,
        value_type: ValueType | str,
        value: Any,
        *,
        origin: int | None = None,
        units: str = "",
        tags: dict[str, Any] | None = None,
        id: str | None = None,
    ) -> Reading:
        """A simple reading with ``value`` formatted as the Go SDK does (``NewSimpleReading``).

        Raises:
            ValueFormatError: ``value`` does not fit ``value_type``.
        """
        vt = value_type if isinstance(value_type, ValueType) else ValueType.parse(value_type)
        if vt is ValueType.BINARY or vt in _OBJECT_TYPES:
            raise ValueFormatError(f"{vt} readings have no simple value; use Reading.binary/object", field="valueType")
        text = format_value(vt, value)
        if vt.is_numeric_array or vt is ValueType.BOOL_ARRAY:
            import numpy as np  # arrays only: numpy is loaded by the first one

            from edgewatch.common.contracts.valuearray import NUMPY_DTYPES

            typed: Any = np.array(value, dtype=NUMPY_DTYPES[vt.element])  # a copy: the caller may reuse its buffer
            typed.flags.writeable = False
        elif vt is ValueType.FLOAT32:
            typed = to_float32(value)
        elif vt is ValueType.FLOAT64:
            typed = float(value)
        elif vt.is_integer:
            typed = int(value)
        elif vt is ValueType.STRING_ARRAY:
            typed = list(value)
        else:
            typed = bool(value) if vt is ValueType.BOOL else value
        return cls._build(device, profile, resource, vt, origin, units, tags, id, typed, value=text)

    @classmethod
    def binary(
        cls,
        device: str,
        profile: str,
        resource: str,
        data: bytes,
        media_type: str,
        *,
        origin: int | None = None,
        tags: dict[str, Any] | None = None,
        id: str | None = None,
    ) -> Reading:
        """A Binary reading (``NewBinaryReading``); ``media_type`` is required."""
        if not media_type:
            raise ValueFormatError("mediaType is required with binaryValue", field="mediaType")
        data = bytes(data)
        return cls._build(
            device, profile, resource, ValueType.BINARY, origin, "", tags, id, data, binary_value=data,
            media_type=media_type,
        )  # fmt: skip

    @classmethod
    def object(
        cls,
        device: str,
        profile: str,
        resource: str,
        value: Any,
        *,
        array: bool = False,
        origin: int | None = None,
        tags: dict[str, Any] | None = None,
        id: str | None = None,
    ) -> Reading:
        """An Object (or ObjectArray with ``array=True``) reading holding any JSON value."""
        vt = ValueType.OBJECT_ARRAY if array else ValueType.OBJECT
        return cls._build(device, profile, resource, vt, origin, "", tags, id, value, object_value=value)

    @classmethod
    def null(
        cls,
        device: str,
        profile: str,
        resource: str,
        value_type: ValueType | str,
        *,
        origin: int | None = None,
        id: str | None = None,
    ) -> Reading:
        """A v4 null reading: ``value``, ``binaryValue`` and ``objectValue`` all null (``NewNullReading``)."""
        vt = value_type if isinstance(value_type, ValueType) else ValueType.parse(value_type)
        return cls._build(
            device, profile, resource, vt, origin, "", None, id, None, value=None, binary_value=None,
            object_value=None,
        )  # fmt: skip

    @classmethod
    def _build(
        cls,
        device: str,
        profile: str,
        resource: str,
        value_type: ValueType,
        origin: int | None,
        units: str,
        tags: dict[str, Any] | None,
        id: str | None,
        typed: Any,
        *,
        value: Any = MISSING,
        binary_value: Any = MISSING,
        media_type: Any = MISSING,
        object_value: Any = MISSING,
    ) -> Reading:
        # What model_construct does, without its per-field generality (ingest builds thousands of these per second).
        fields = {
            "id": str(uuid.uuid4()) if id is None else id,
            "origin": time.time_ns() if origin is None else origin,
            "device_name": device,
            "resource_name": resource,
            "profile_name": profile,
            "value_type": value_type,
            "units": units,
            "tags": tags if tags is not None else {},
            "value": value,
            "binary_value": binary_value,
            "media_type": media_type,
            "object_value": object_value,
        }
        return construct(cls, fields, {"_typed": typed})

    def __eq__(self, other: Any) -> bool:
        # pydantic compares private attributes too; the parsed-value cache (maybe a numpy array) must not count.
        if not isinstance(other, Reading):
            return NotImplemented
        return self.__dict__ == other.__dict__ and (self.__pydantic_extra__ or {}) == (other.__pydantic_extra__ or {})

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------------------------------ accessors

    @property
    def is_null(self) -> bool:
        """True for a v4 null reading."""
        return self.value is None and self.binary_value is None and self.object_value is None

    def typed_value(self) -> Any:
        """The value as Python data: bool/int/float/str, a list for arrays, bytes, the object, or None (null)."""
        typed = self._cached()
        if typed is MISSING:
            typed = _typed_of(self)
            self._cache(typed)
        if _is_ndarray(typed):
            return typed.tolist()
        return typed

    def array(self) -> npt.NDArray[Any]:
        """The value of a numeric or Bool array reading as a numpy array of the element dtype (no per-element work).

        The array is the reading's cached value and is read-only; copy it before changing it in place.

        Raises:
            ValueFormatError: the reading is not a numeric/Bool array, or is null.
        """
        typed = self._cached()
        if _is_ndarray(typed):
            return typed  # type: ignore[no-any-return]
        if self.is_null or not isinstance(self.value, str):
            raise ValueFormatError(f"reading {self.resource_name!r} has no array value", field="value")
        arr = parse_array(self.value_type, self.value)
        arr.flags.writeable = False
        self._cache(arr)
        return arr

    def numeric_value(self) -> int | float | None:
        """The value as a number for numeric scalar types (what ``?numeric=true`` emits), else None."""
        if not self.value_type.is_numeric or self.is_null:
            return None
        typed = self.typed_value()
        return typed if isinstance(typed, int | float) and not isinstance(typed, bool) else None

    def to_numeric(self) -> Reading:
        """A copy rendered as core-data's ``?numeric=true``: numeric scalar values become JSON numbers.

        NaN and ±Inf have no JSON number, so those readings keep their Go string (``"NaN"``, ``"+Inf"``).
        """
        number = self.numeric_value()
        if number is None or (isinstance(number, float) and not math.isfinite(number)):
            return self
        copy = self.model_copy(update={"value": number})
        copy._cache(number)
        return copy


def _parse_cached(vt: ValueType, text: str) -> Any:
    if vt.is_numeric_array or vt is ValueType.BOOL_ARRAY:
        arr = parse_array(vt, text)
        arr.flags.writeable = False
        return arr
    return parse_value(vt, text)


def _typed_of(reading: Reading) -> Any:
    if reading.is_null:
        return None
    if reading.value_type is ValueType.BINARY:
        return reading.binary_value
    if reading.value_type in _OBJECT_TYPES:
        return reading.object_value
    if isinstance(reading.value, str):
        return _parse_cached(reading.value_type, reading.value)
    return reading.value
