"""The suite's fast internal codec: msgpack, with numpy arrays as raw little-endian bytes decoded without a copy.

Wire format: one standard msgpack document. A numpy array is the extension ``ExtType(1, descriptor + bytes)``
where the descriptor is ``<dtype_len:u8><ndim:u8><dtype ascii, little-endian: "<f8", "<i4", "|u1"><shape:
ndim x u64 LE>`` and the bytes are the C-order little-endian data. Encoding and decoding run in msgspec's C
msgpack implementation; its ``ext_hook`` hands over a memoryview into the received message, so a decoded array is
an ``np.frombuffer`` view of the message buffer (read-only when it is ``bytes``): a 32-feature vector or a
4096-sample window costs no copy on the receiving side. Datetimes travel as msgpack timestamps.

The codec is part of the contracts (the suite's wire format, like ``eventcodec`` for EdgeX events), so the message
models encode and decode themselves without the bus; the bus treats :class:`MessageDecodeError` (and its own
``BusDecodeError`` subclass) as "dead-letter this message".
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import msgspec
import numpy as np
from pydantic import BaseModel, ValidationError

from edgewatch.common.contracts.pydanticadapter import has_custom_serialization

__all__ = ["EXT_NDARRAY", "MessageDecodeError", "pack", "pack_model", "unpack", "unpack_model"]

EXT_NDARRAY = 1
_U64 = struct.Struct("<Q")
_MAX_NDIM = 32
_CACHE_MAX = 1024

M = TypeVar("M", bound=BaseModel)


class MessageDecodeError(ValueError):
    """A suite message could not be decoded into its wire model (the bus dead-letters it; never fatal)."""


# (id(dtype), shape) -> (dtype, descriptor). Keyed by id because dtype.__eq__, run on every dict hit, costs more
# than packing a small array; the entry holds the dtype, so its id cannot be reused while the entry lives.
_descriptors: dict[tuple[int, tuple[int, ...]], tuple[np.dtype[Any], bytes]] = {}


def _wire_array(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """C-contiguous, little-endian; no copy when it already is."""
    dt = arr.dtype
    if dt.kind in "OV" or dt.hasobject:
        raise TypeError(f"codec: arrays of dtype {dt} cannot travel as raw bytes")
    if dt.byteorder == ">" and dt.itemsize > 1:
        dt = dt.newbyteorder("<")
    elif arr.flags.c_contiguous:
        return arr
    return np.ascontiguousarray(arr, dtype=dt)


def _descriptor(arr: np.ndarray[Any, Any]) -> bytes:
    dtype = arr.dtype
    key = (id(dtype), arr.shape)
    hit = _descriptors.get(key)
    if hit is not None and hit[0] is dtype:
        return hit[1]
    dt: bytes = dtype.str.encode("ascii")
    d: bytes = bytes((len(dt), arr.ndim)) + dt + b"".join(_U64.pack(n) for n in arr.shape)
    if len(_descriptors) < _CACHE_MAX:
        _descriptors[key] = (dtype, d)
    return d


def _enc_hook(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        if not o.flags.c_contiguous or o.dtype.byteorder == ">" or o.dtype.hasobject:
            o = _wire_array(o)
        return msgspec.msgpack.Ext(EXT_NDARRAY, _descriptor(o) + o.tobytes())
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, BaseModel):
        return _dump(o)
    if isinstance(o, Enum):
        return o.value
    if isinstance(o, frozenset):
        return list(o)
    raise TypeError(f"codec: cannot encode {type(o).__name__}")


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)


def pack(obj: Any) -> bytes:
    """Encode ``obj`` (dicts, lists, tuples, sets, str, bytes, numbers, bool, None, datetimes, numpy arrays and
    scalars, enums, pydantic models).

    Raises:
        TypeError: an object the codec cannot encode (object arrays, arbitrary classes).
    """
    return _encoder.encode(obj)


# descriptor -> (dtype, shape, count, nbytes); shapes repeat message after message, so each is parsed once
_layouts: dict[bytes, tuple[np.dtype[Any], tuple[int, ...], int, int]] = {}


def _parse_descriptor(head: bytes) -> tuple[np.dtype[Any], tuple[int, ...], int, int]:
    dt_len, ndim = head[0], head[1]
    try:
        dtype = np.dtype(head[2 : 2 + dt_len].decode("ascii"))
    except (TypeError, ValueError, UnicodeDecodeError) as e:
        raise MessageDecodeError(f"codec: bad dtype in array descriptor: {e}") from e
    if dtype.kind in "OV" or dtype.hasobject or dtype.byteorder == ">":
        raise MessageDecodeError(f"codec: dtype {dtype} is not a little-endian plain dtype")
    shape = tuple(_U64.unpack_from(head, 2 + dt_len + 8 * i)[0] for i in range(ndim))
    count = 1
    for n in shape:
        count *= n
    return dtype, shape, count, count * dtype.itemsize


def _ext_hook(code: int, data: memoryview) -> Any:
    if code != EXT_NDARRAY:
        return msgspec.msgpack.Ext(code, bytes(data))
    size = len(data)
    if size < 2:
        raise MessageDecodeError("codec: truncated array descriptor")
    head_len = 2 + data[0] + 8 * data[1]
    if data[1] > _MAX_NDIM or head_len > size:
        raise MessageDecodeError("codec: malformed array descriptor")
    head = bytes(data[:head_len])
    layout = _layouts.get(head)
    if layout is None:
        layout = _parse_descriptor(head)
        if len(_layouts) < _CACHE_MAX:
            _layouts[head] = layout
    dtype, shape, count, nbytes = layout
    if head_len + nbytes != size:
        raise MessageDecodeError(f"codec: array of shape {shape} {dtype} needs {nbytes} bytes, got {size - head_len}")
    if not count:
        empty = np.empty(shape, dtype=dtype)
        empty.flags.writeable = False
        return empty
    # a view of the message buffer: msgspec's memoryview points into it (and keeps it alive)
    arr = np.frombuffer(data, dtype, count, head_len)
    return arr if len(shape) == 1 else arr.reshape(shape)


_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


def unpack(data: bytes | bytearray | memoryview) -> Any:
    """Decode what :func:`pack` produced; arrays are views into ``data`` (read-only for ``bytes``).

    Raises:
        MessageDecodeError: not a valid message (truncated, bad msgpack, bad array descriptor).
    """
    try:
        return _decoder.decode(data)
    except MessageDecodeError:
        raise
    except Exception as e:
        cause = e.__cause__ if isinstance(e.__cause__, MessageDecodeError) else None
        if cause is not None:
            raise cause from None
        raise MessageDecodeError(f"codec: not a suite message: {type(e).__name__}: {e}") from e


# model class -> (wire keys, attribute getter) when a plain attribute copy equals model_dump(by_alias=True), else
# None; the copy costs a fraction of pydantic's serializer for the flat models the suite sends.
_Plan = tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]
_plans: dict[type[BaseModel], _Plan | None] = {}


def _plan(cls: type[BaseModel]) -> _Plan | None:
    if has_custom_serialization(cls) or cls.model_config.get("extra") == "allow":
        return None
    if getattr(cls, "__pydantic_root_model__", False):
        return None
    keys, names = [], []
    for name, f in cls.model_fields.items():
        if f.exclude or getattr(f, "exclude_if", None) is not None:
            return None
        keys.append(f.serialization_alias or f.alias or name)
        names.append(name)
    if len(names) < 2:  # itemgetter of one name returns the value, not a 1-tuple
        return None
    return tuple(keys), operator.itemgetter(*names)


def _dump(model: BaseModel) -> dict[str, Any]:
    """``model_dump(by_alias=True)`` without pydantic's serializer for plain models (nested models dump lazily)."""
    cls = type(model)
    try:
        plan = _plans[cls]
    except KeyError:
        plan = _plans[cls] = _plan(cls)
    if plan is None:
        return model.model_dump(by_alias=True)
    keys, get = plan
    try:
        return dict(zip(keys, get(model.__dict__), strict=True))
    except KeyError:  # a model_construct()ed instance missing a field: let pydantic decide
        return model.model_dump(by_alias=True)


def pack_model(model: BaseModel) -> bytes:
    """Encode a pydantic model (keys by alias; ndarray fields travel as raw arrays)."""
    return pack(_dump(model))


def unpack_model(cls: type[M], data: bytes | bytearray | memoryview, what: str = "") -> M:
    """Decode and validate a ``cls`` message; ``what`` names it in errors (default: the class name).

    Raises:
        MessageDecodeError: not msgpack, not a map, or a field is missing or invalid (the message names it).
    """
    label = what or cls.__name__
    try:
        doc = unpack(data)
    except MessageDecodeError as e:
        raise MessageDecodeError(f"{e} ({label} is not msgpack)") from e
    if not isinstance(doc, dict):
        raise MessageDecodeError(f"{label} must be a msgpack map, got {type(doc).__name__}")
    try:
        return cls.__pydantic_validator__.validate_python(doc)  # type: ignore[no-any-return]
    except ValidationError as e:
        fields = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise MessageDecodeError(f"invalid {label}: {fields}") from e
