"""The suite's fast internal codec: msgpack, with numpy arrays as raw little-endian bytes decoded without a copy.

Wire format. A message without arrays is one plain msgpack document. A message with arrays is a frame::

    0xC1 | table_len: u32 LE | doc_len: u32 LE | table | msgpack doc | pad to 8 | arrays, each padded to 8

``0xC1`` is the one byte msgpack never uses, so the two forms cannot be confused. The table holds one descriptor
per array, ``<dtype_len:u8><ndim:u8><dtype ascii, little-endian: "<f8", "<i4", "|u1"><shape: ndim x u64 LE>``;
the arrays follow the document in table order. In the document, array ``i`` is ``ExtType(i + 1, b"")`` (so at
most 127 arrays per message). Decoding returns ``np.ndarray`` views into the message buffer (read-only when it is
``bytes``): a 32-feature vector or a 4096-sample window costs no copy on the receiving side.
"""

from __future__ import annotations

import operator
import struct
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import msgpack
import numpy as np
from pydantic import BaseModel, ValidationError

from edgewatch.common.bus.errors import BusDecodeError

__all__ = ["FRAME_MAGIC", "MAX_ARRAYS", "pack", "pack_model", "unpack", "unpack_model"]

FRAME_MAGIC = 0xC1
MAX_ARRAYS = 127
_HEADER = struct.Struct("<BII")  # magic, table_len, doc_len
_HEAD = struct.Struct("<II")
_HDR = _HEADER.size
_U64 = struct.Struct("<Q")
_PAD = bytes(8)
_MAX_NDIM = 32
# array i of a message is ExtType(i + 1, b""): the same objects every time, nothing to build per array
_ARRAY_REFS = [msgpack.ExtType(i + 1, b"") for i in range(MAX_ARRAYS)]

M = TypeVar("M", bound=BaseModel)


def _align8(n: int) -> int:
    return (n + 7) & ~7


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


class _PackState:
    """A reusable Packer per thread (building one per message costs more than packing a small message)."""

    __slots__ = ("blobs", "descr", "packer")

    def __init__(self) -> None:
        self.blobs: list[np.ndarray[Any, Any]] = []
        self.packer = msgpack.Packer(default=self.default, use_bin_type=True, autoreset=True)
        # (id(dtype), shape) -> (dtype, descriptor). Keyed by id because dtype.__eq__, run on every dict hit,
        # costs more than packing a small array; the entry holds the dtype, so its id cannot be reused meanwhile.
        self.descr: dict[tuple[int, tuple[int, ...]], tuple[np.dtype[Any], bytes]] = {}

    def default(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            blobs = self.blobs
            if len(blobs) >= MAX_ARRAYS:
                raise TypeError(f"codec: more than {MAX_ARRAYS} arrays in one message")
            blobs.append(o if o.flags.c_contiguous and o.dtype.byteorder != ">" else _wire_array(o))
            return _ARRAY_REFS[len(blobs) - 1]
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, BaseModel):
            return _dump(o)
        if isinstance(o, Enum):
            return o.value
        if isinstance(o, (tuple, set, frozenset)):
            return list(o)
        raise TypeError(f"codec: cannot encode {type(o).__name__}")

    def descriptor(self, arr: np.ndarray[Any, Any]) -> bytes:
        dtype = arr.dtype
        key = (id(dtype), arr.shape)
        hit = self.descr.get(key)
        if hit is not None and hit[0] is dtype:
            return hit[1]
        if dtype.kind in "OV" or dtype.hasobject:
            raise TypeError(f"codec: arrays of dtype {dtype} cannot travel as raw bytes")
        dt: bytes = dtype.str.encode("ascii")
        d: bytes = bytes((len(dt), arr.ndim)) + dt + b"".join(_U64.pack(n) for n in arr.shape)
        if len(self.descr) < 1024:
            self.descr[key] = (dtype, d)
        return d


# thread id -> its pack state (a plain object: attribute access on threading.local costs more than the lookup)
_states: dict[int, _PackState] = {}


def _state() -> _PackState:
    tid = threading.get_ident()
    st = _states.get(tid)
    if st is None:
        st = _states[tid] = _PackState()
    return st


def pack(obj: Any) -> bytes:
    """Encode ``obj`` (dicts, lists, str, bytes, numbers, bool, None, numpy arrays and scalars, pydantic models).

    Raises:
        TypeError: an object the codec cannot encode (object arrays, arbitrary classes, > 127 arrays).
    """
    st = _states.get(threading.get_ident()) or _state()
    blobs = st.blobs
    try:
        doc: bytes = st.packer.pack(obj)
        if not blobs:
            return doc
        table = st.descriptor(blobs[0]) if len(blobs) == 1 else b"".join([st.descriptor(a) for a in blobs])
    except BaseException:
        st.packer.reset()
        blobs.clear()
        raise
    head = _HDR + len(table) + len(doc)
    # C-contiguous arrays export their bytes through the buffer protocol: join copies them straight in.
    parts: list[Any] = [_HEADER.pack(FRAME_MAGIC, len(table), len(doc)), table, doc, _PAD[: _align8(head) - head]]
    for arr in blobs:
        n = arr.nbytes
        parts.append(arr)
        if n & 7:
            parts.append(_PAD[: _align8(n) - n])
    blobs.clear()
    return b"".join(parts)


def unpack(data: bytes | bytearray | memoryview) -> Any:
    """Decode what :func:`pack` produced; arrays are views into ``data`` (read-only for ``bytes``).

    Raises:
        BusDecodeError: not a valid message (truncated, bad msgpack, bad array table).
    """
    try:
        if len(data) and data[0] == FRAME_MAGIC:
            return _unpack_frame(data)
        return msgpack.unpackb(data, raw=False)
    except BusDecodeError:
        raise
    except Exception as e:
        raise BusDecodeError(f"codec: not a suite message: {type(e).__name__}: {e}") from e


# table bytes -> [(dtype, shape, offset from the array area, nbytes)], total array-area size. Messages of one
# kind repeat their table, so each is parsed once.
_Layout = tuple[list[tuple[np.dtype[Any], tuple[int, ...], int, int]], int]
_tables: dict[bytes, _Layout] = {}


def _parse_table(table: bytes) -> _Layout:
    out: list[tuple[np.dtype[Any], tuple[int, ...], int, int]] = []
    p = off = 0
    while p < len(table):
        if p + 2 > len(table):
            raise BusDecodeError("codec: truncated array table")
        dt_len, ndim = table[p], table[p + 1]
        end = p + 2 + dt_len + 8 * ndim
        if ndim > _MAX_NDIM or end > len(table):
            raise BusDecodeError("codec: malformed array descriptor")
        try:
            dtype = np.dtype(table[p + 2 : p + 2 + dt_len].decode("ascii"))
        except (TypeError, ValueError, UnicodeDecodeError) as e:
            raise BusDecodeError(f"codec: bad dtype in array table: {e}") from e
        if dtype.kind in "OV" or dtype.hasobject or dtype.byteorder == ">":
            raise BusDecodeError(f"codec: dtype {dtype} is not a little-endian plain dtype")
        q = p + 2 + dt_len
        shape = tuple(_U64.unpack_from(table, q + 8 * i)[0] for i in range(ndim))
        count = 1
        for n in shape:
            count *= n
        nbytes = count * dtype.itemsize
        out.append((dtype, shape, off, nbytes))
        off += _align8(nbytes)
        p = end
    if len(out) > MAX_ARRAYS:
        raise BusDecodeError(f"codec: more than {MAX_ARRAYS} arrays")
    return out, off


def _unpack_frame(data: bytes | bytearray | memoryview) -> Any:
    size = len(data)
    if size < _HDR:
        raise BusDecodeError("codec: truncated frame header")
    table_len, doc_len = _HEAD.unpack_from(data, 1)
    doc_at = _HDR + table_len
    base = _align8(doc_at + doc_len)
    table = data[_HDR:doc_at]
    if type(table) is not bytes:
        table = bytes(table)
    layout = _tables.get(table)
    if layout is None:
        layout = _parse_table(table)
        if len(_tables) < 1024:
            _tables[table] = layout
    arrays, area = layout
    if base + area > size:
        raise BusDecodeError(f"codec: frame of {size} bytes is shorter than its header says ({base + area})")
    if len(arrays) == 1 and arrays[0][3]:
        dtype, shape, off, _ = arrays[0]
        # np.ndarray over the buffer is a view, like np.frombuffer, at about half the cost per call.
        refs = {1: np.ndarray(shape, dtype, data, base + off)}
    else:
        refs = {}
        for i, (dtype, shape, off, nbytes) in enumerate(arrays, 1):
            if nbytes:
                refs[i] = np.ndarray(shape, dtype, data, base + off)
            else:
                refs[i] = empty = np.empty(shape, dtype=dtype)
                empty.flags.writeable = False
    # ext_hook(code, data) -> refs.get(code, data): array i + 1 resolves in C, with no Python call per array
    return msgpack.unpackb(data[doc_at : doc_at + doc_len], raw=False, ext_hook=refs.get)


# model class -> (wire keys, attribute getter) when a plain attribute copy equals model_dump(by_alias=True), else
# None; the copy costs a fraction of pydantic's serializer for the flat models the suite sends.
_Plan = tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]
_plans: dict[type[BaseModel], _Plan | None] = {}


def _plan(cls: type[BaseModel]) -> _Plan | None:
    deco = cls.__pydantic_decorators__
    if (
        deco.field_serializers
        or deco.model_serializers
        or deco.computed_fields
        or cls.model_config.get("extra") == "allow"
    ):
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
    return dict(zip(keys, get(model.__dict__), strict=True))


def pack_model(model: BaseModel) -> bytes:
    """Encode a pydantic model (keys by alias; ndarray fields travel as raw arrays)."""
    return pack(_dump(model))


def unpack_model(cls: type[M], data: bytes | bytearray | memoryview) -> M:
    """Decode and validate a ``cls`` message.

    Raises:
        BusDecodeError: not a suite message, not a map, or a field is missing or invalid (the message names it).
    """
    doc = unpack(data)
    if not isinstance(doc, dict):
        raise BusDecodeError(f"{cls.__name__}: expected a map, got {type(doc).__name__}")
    try:
        return cls.__pydantic_validator__.validate_python(doc)  # type: ignore[no-any-return]
    except ValidationError as e:
        fields = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise BusDecodeError(f"invalid {cls.__name__}: {fields}") from e
