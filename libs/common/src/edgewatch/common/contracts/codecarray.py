"""The numpy half of the suite codec (:mod:`codec`): arrays <-> ``ExtType(1, descriptor + bytes)``.

Imported by :mod:`codec` at the first array a process encodes or decodes, so services that never meet one do not
load numpy. The wire format is described in :mod:`codec`.
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec
import numpy as np

from edgewatch.common.contracts.codecbase import EXT_NDARRAY, MessageDecodeError

__all__ = ["decode_array", "encode_array"]

_U64 = struct.Struct("<Q")
_MAX_NDIM = 32
_CACHE_MAX = 1024

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


def encode_array(o: np.ndarray[Any, Any]) -> msgspec.msgpack.Ext:
    """The ``EXT_NDARRAY`` extension of an array (C-order little-endian bytes after the descriptor).

    Raises:
        TypeError: an array of objects or structured records (they cannot travel as raw bytes).
    """
    if not o.flags.c_contiguous or o.dtype.byteorder == ">" or o.dtype.hasobject:
        o = _wire_array(o)
    return msgspec.msgpack.Ext(EXT_NDARRAY, _descriptor(o) + o.tobytes())


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


def decode_array(data: memoryview) -> np.ndarray[Any, Any]:
    """The array of an ``EXT_NDARRAY`` extension's data: a view of the message buffer, no copy.

    Raises:
        MessageDecodeError: a truncated or malformed descriptor, a dtype that cannot travel, a size mismatch.
    """
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
