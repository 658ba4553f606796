"""The suite's fast internal codec: msgpack, with numpy arrays as raw little-endian bytes decoded without a copy.

Wire format: one standard msgpack document. A numpy array is the extension ``ExtType(1, descriptor + bytes)``
where the descriptor is ``<dtype_len:u8><ndim:u8><dtype ascii, little-endian: "<f8", "<i4", "|u1"><shape:
ndim x u64 LE>`` and the bytes are the C-order little-endian data. Encoding and decoding run in msgspec's C
msgpack implementation; its ``ext_hook`` hands over a memoryview into the received message, so a decoded array is
an ``np.frombuffer`` view of the message buffer (read-only when it is ``bytes``): a 32-feature vector or a
4096-sample window costs no copy on the receiving side. Datetimes travel as msgpack timestamps. The array part lives
in :mod:`codecarray`, imported at the first array: a process that never meets one (core, rules, ...) never loads
numpy.

The codec is part of the contracts (the suite's wire format, like ``eventcodec`` for EdgeX events), so the message
models encode and decode themselves without the bus; the bus treats :class:`MessageDecodeError` (and its own
``BusDecodeError`` subclass) as "dead-letter this message".
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from enum import Enum
from types import ModuleType
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel, ValidationError

from edgewatch.common.contracts.codecbase import EXT_NDARRAY, MessageDecodeError
from edgewatch.common.contracts.pydanticadapter import has_custom_serialization

__all__ = ["EXT_NDARRAY", "MessageDecodeError", "pack", "pack_model", "unpack", "unpack_model"]


M = TypeVar("M", bound=BaseModel)


def _enc_hook(o: Any) -> Any:
    np = sys.modules.get("numpy")  # not loaded: no numpy object can exist, and the services without arrays stay light
    if np is not None:
        if isinstance(o, np.ndarray):
            return _arrays().encode_array(o)
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


def _ext_hook(code: int, data: memoryview) -> Any:
    if code != EXT_NDARRAY:
        return msgspec.msgpack.Ext(code, bytes(data))
    return _arrays().decode_array(data)


_array_codec: ModuleType | None = None


def _arrays() -> ModuleType:
    """:mod:`codecarray` (numpy), imported at the first array a process encodes or decodes."""
    global _array_codec
    if _array_codec is None:
        from edgewatch.common.contracts import codecarray

        _array_codec = codecarray
    return _array_codec


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
