"""FeatureValues: the numbers of a FeatureVector message, read without numpy (for display: the console).

:func:`decode_feature_values` reads the fields a viewer needs from the message :func:`feature.encode_feature_vector`
writes (``values`` as the codec's ``<f8`` array extension, raw ``<f8`` bytes or a list of numbers) into plain
Python lists. Loading numpy costs a process about 16 MB of RSS; a service that only shows vectors does not need it.
Consumers that compute on vectors use :class:`feature.FeatureVector`; this reader checks what it reads (types,
one value per name), not every constraint of the model.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from typing import Any

import msgspec

from edgewatch.common.contracts.codecbase import EXT_NDARRAY, MessageDecodeError

__all__ = ["FeatureValues", "decode_feature_values"]

_U64 = struct.Struct("<Q")
_F8_HEAD = bytes((3, 1)) + b"<f8"  # dtype "<f8", one dimension; the u64 length follows


def _ext(code: int, data: memoryview) -> msgspec.msgpack.Ext:
    return msgspec.msgpack.Ext(code, bytes(data))


_decoder = msgspec.msgpack.Decoder(ext_hook=_ext)


@dataclass(frozen=True, slots=True)
class FeatureValues:
    """The fields of a FeatureVector a viewer reads; ``values[i]`` is the value of ``names[i]``."""

    device: str
    names: list[str]
    values: list[float]
    window_end: int
    origin: int
    correlation_id: str


def _floats(raw: bytes | memoryview) -> list[float]:
    if len(raw) % 8:
        raise MessageDecodeError(f"invalid feature vector: values: {len(raw)} bytes is not a whole number of float64")
    values = array("d")
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def _values(v: Any) -> list[float]:
    if isinstance(v, msgspec.msgpack.Ext):
        data = memoryview(v.data)
        if v.code != EXT_NDARRAY or bytes(data[:5]) != _F8_HEAD or len(data) < 13:
            raise MessageDecodeError("invalid feature vector: values: not a one-dimensional <f8 array")
        count = _U64.unpack_from(data, 5)[0]
        if len(data) - 13 != 8 * count:
            raise MessageDecodeError(f"invalid feature vector: values: {count} values need {8 * count} bytes")
        return _floats(data[13:])
    if isinstance(v, bytes):
        return _floats(v)
    if isinstance(v, list) and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v):
        return [float(x) for x in v]
    raise MessageDecodeError("invalid feature vector: values: not float64 numbers")


def _int(doc: dict[str, Any], key: str) -> int:
    v = doc.get(key, 0)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise MessageDecodeError(f"invalid feature vector: {key}: not a non-negative integer")
    return v


def decode_feature_values(data: bytes | bytearray | memoryview) -> FeatureValues:
    """Read a FeatureVector message's device, names, values, window end, origin and correlation id.

    Raises:
        MessageDecodeError: not msgpack, not a map, a field of the wrong type, or not one value per name.
    """
    try:
        doc = _decoder.decode(data)
    except msgspec.DecodeError as e:
        raise MessageDecodeError(f"codec: not a suite message: {e} (feature vector is not msgpack)") from e
    if not isinstance(doc, dict):
        raise MessageDecodeError(f"feature vector must be a msgpack map, got {type(doc).__name__}")
    device, names, corr = doc.get("device"), doc.get("names"), doc.get("correlationId", "")
    if not isinstance(device, str) or not device:
        raise MessageDecodeError("invalid feature vector: device: not a non-empty string")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise MessageDecodeError("invalid feature vector: names: not a list of strings")
    if not isinstance(corr, str):
        raise MessageDecodeError("invalid feature vector: correlationId: not a string")
    values = _values(doc.get("values"))
    if len(values) != len(names):
        raise MessageDecodeError(f"invalid feature vector: values: {len(values)} values for {len(names)} names")
    return FeatureValues(device, names, values, _int(doc, "windowEnd"), _int(doc, "origin"), corr)
