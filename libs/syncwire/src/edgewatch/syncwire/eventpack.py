"""Columnar, lossless packing of EdgeX event payloads inside a sync batch (the event class's wire format v2).

A payload is packed only if re-encoding its decoded fields gives back the **same bytes**: compact JSON in
pydantic's key order ``{apiVersion, requestId, event: {apiVersion, id, deviceName, profileName, sourceName,
origin, readings: [{id, origin, deviceName, resourceName, profileName, valueType, [units], [tags], value}],
[tags]}}`` with the readings' device/profile/origin equal to the event's, a string value whose Go value string
survives its typed column, tags that are JSON objects, and canonical lower-case UUIDs. Anything else
(extensions, object/binary/null readings, CBOR, other formatting) stays opaque bytes in its row. So every
record is reproduced byte-identical.

Packed records are grouped by shape (api versions, device, profile, source, event tags, per reading: resource,
valueType, units, tags; tags as their exact JSON text, which repeats since ingest copies device and resource
tags); origins are int64 deltas; numeric values are little-endian arrays of their own dtype per (shape,
reading); ids equal to :mod:`edgewatch.common.contracts.ids`'s derivation cost one flag bit, others 16 bytes.
A shape carries its tag elements only when it has tags, so packs without tags keep their earlier form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from edgewatch.common.contracts.ids import EDGEWATCH_NAMESPACE
from edgewatch.common.contracts.valuearray import NUMPY_DTYPES
from edgewatch.common.contracts.values import ValueFormatError, format_array, parse_value
from edgewatch.common.contracts.valuetype import ValueType

__all__ = ["check_pack", "pack_events", "unpack_events"]

_ID_EVENT: Final = 1
_ID_REQUEST: Final = 2
_ID_READINGS: Final = 4
_Slot = tuple[str, str, str | None, str | None]
"""A reading slot of a shape: resourceName, valueType, units, tags (JSON text) (None: the key is absent)."""
_Shape = tuple[str, str, str, str, str, tuple[_Slot, ...], str | None]
"""api versions, device, profile, source, reading slots, event tags (JSON text, None: absent)."""
_DTYPES: Final[dict[ValueType, np.dtype[Any]]] = {
    vt: np.dtype(t).newbyteorder("<") for vt, t in NUMPY_DTYPES.items() if vt is not ValueType.BOOL
}
"""Numeric scalar types: their values travel as typed arrays; every other value type as strings."""
_HEX: Final = frozenset("0123456789abcdef")
_VARIANT: Final = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_NS: Final = hashlib.sha1(EDGEWATCH_NAMESPACE.bytes)


class _Reading(msgspec.Struct, gc=False):
    """The packable reading form: JSON keys in pydantic's order."""

    id: str
    origin: int
    deviceName: str
    resourceName: str
    profileName: str
    valueType: str
    units: str | msgspec.UnsetType = msgspec.UNSET
    tags: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    value: str = ""


class _Event(msgspec.Struct, gc=False):
    apiVersion: str
    id: str
    deviceName: str
    profileName: str
    sourceName: str
    origin: int
    readings: list[_Reading]
    tags: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class _Request(msgspec.Struct, gc=False):
    apiVersion: str
    requestId: str
    event: _Event


_decode = msgspec.json.Decoder(_Request).decode
_encode = msgspec.json.Encoder().encode


class _Unpackable(Exception):
    """The payload is not in the packable form (it stays opaque)."""


def _digest(name: bytes) -> bytes:
    h = _NS.copy()
    h.update(name)
    return h.digest()[:16]


def _uuid5_rows(names: Sequence[bytes]) -> npt.NDArray[np.uint8]:
    """uuid5(EDGEWATCH_NAMESPACE, name) of each name as a (N, 16) byte array (version and variant bits set)."""
    rows = np.frombuffer(b"".join([_digest(n) for n in names]), dtype=np.uint8).reshape(-1, 16).copy()
    rows[:, 6] = (rows[:, 6] & 0x0F) | 0x50
    rows[:, 8] = (rows[:, 8] & 0x3F) | 0x80
    return rows


_NIBBLE: Final = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX_CHARS: Final = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_POS: Final = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_DASH_POS: Final = np.array([8, 13, 18, 23])


def _uuid_rows(ids: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """(the 16 bytes of each id, mask of ids that are canonical lower-case 8-4-4-4-12 UUID strings)."""
    fixed = [x if len(x) == 36 else "?" * 36 for x in ids]
    chars = np.frombuffer("".join(fixed).encode("ascii", "replace"), dtype=np.uint8).reshape(-1, 36)
    nib = _NIBBLE[chars[:, _HEX_POS]]
    ok = (nib != 255).all(axis=1) & (chars[:, _DASH_POS] == ord("-")).all(axis=1)
    raw: npt.NDArray[np.uint8] = ((nib[:, 0::2] << 4) | nib[:, 1::2]).astype(np.uint8)
    return raw, ok


def _uuid_strings(rows: npt.NDArray[np.uint8]) -> list[str]:
    """Canonical strings of (N, 16) UUID byte rows."""
    chars = np.full((len(rows), 36), ord("-"), dtype=np.uint8)
    chars[:, _HEX_POS[0::2]] = _HEX_CHARS[rows >> 4]
    chars[:, _HEX_POS[1::2]] = _HEX_CHARS[rows & 0x0F]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + 36] for i in range(0, len(text), 36)]


def _sub_names(eid: str, n: int) -> list[bytes]:
    """Names of the request id and the ``n`` reading ids of event ``eid`` (contracts.ids)."""
    return [f"{eid}/request".encode(), *(f"{eid}/{k}".encode() for k in range(n))]


def _id_flags(reqs: Sequence[_Request]) -> tuple[list[bool], list[int], list[bytes]]:
    """Per request: packable (all ids canonical UUIDs), flag bits of the derived ids, raw bytes of carried ids."""
    ev_names = [f"{q.event.deviceName}/{q.event.sourceName}/{q.event.origin}".encode() for q in reqs]
    given_ev = [q.event.id for q in reqs]
    sub_names: list[bytes] = []
    given_sub: list[str] = []
    sizes = []
    for q in reqs:
        sub_names += _sub_names(q.event.id, len(q.event.readings))
        given_sub.append(q.requestId)
        given_sub += [r.id for r in q.event.readings]
        sizes.append(1 + len(q.event.readings))
    ev_bytes, ev_valid = _uuid_rows(given_ev)
    ev_same = (ev_bytes == _uuid5_rows(ev_names)).all(axis=1)
    sub_bytes, sub_valid = _uuid_rows(given_sub)
    sub_same = (sub_bytes == _uuid5_rows(sub_names)).all(axis=1)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    valid = (ev_valid & np.logical_and.reduceat(sub_valid, starts)).tolist()
    req_same = sub_same[starts].tolist()
    rd_same = np.logical_and.reduceat(
        np.where(np.arange(len(sub_same)) == np.repeat(starts, sizes), True, sub_same), starts
    )
    flags = []
    carried = []
    for i, (e, r, d) in enumerate(zip(ev_same.tolist(), req_same, rd_same.tolist(), strict=True)):
        flags.append((_ID_EVENT if e else 0) | (_ID_REQUEST if r else 0) | (_ID_READINGS if d else 0))
        if e and r and d:
            carried.append(b"")
            continue
        start = int(starts[i])
        raw = b"" if e else ev_bytes[i].tobytes()
        raw += b"" if r else sub_bytes[start].tobytes()
        raw += b"" if d else sub_bytes[start + 1 : start + sizes[i]].tobytes()
        carried.append(raw)
    return valid, flags, carried


def _format_column(vt: ValueType, arr: npt.NDArray[Any]) -> list[str]:
    """Go value strings of a numeric column, vectorised (integers: decimal; floats: ``'e', -1`` notation)."""
    if arr.size == 0:
        return []
    if vt.int_range is not None:
        out: list[str] = arr.astype(str).tolist()
        return out
    array_type = ValueType.FLOAT32_ARRAY if vt is ValueType.FLOAT32 else ValueType.FLOAT64_ARRAY
    return format_array(array_type, arr)[1:-1].split(", ")


def _format_columns(columns: Sequence[tuple[ValueType, npt.NDArray[Any]]]) -> list[list[str]]:
    """:func:`_format_column` of many columns, one vectorised call per value type (numpy's per-call cost is high)."""
    out: list[list[str]] = [[] for _ in columns]
    by_type: dict[ValueType, list[int]] = {}
    for i, (vt, _) in enumerate(columns):
        by_type.setdefault(vt, []).append(i)
    for vt, idx in by_type.items():
        arrays = [columns[i][1] for i in idx]
        texts = _format_column(vt, np.concatenate(arrays))
        start = 0
        for i, arr in zip(idx, arrays, strict=True):
            out[i] = texts[start : start + len(arr)]
            start += len(arr)
    return out


def _parse_texts(vt: ValueType, dtype: np.dtype[Any], texts: list[str]) -> npt.NDArray[Any]:
    """Typed column of value texts (texts that do not parse give 0; the format check catches them)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # "1e+99" as Float32 -> inf: the format check drops it
            return np.array(texts).astype(dtype)
    except (ValueError, OverflowError):
        arr = np.zeros(len(texts), dtype=dtype)  # some text does not parse: do it one by one
        for i, text in enumerate(texts):
            try:
                arr[i] = parse_value(vt, text)
            except (ValueFormatError, ValueError, OverflowError, TypeError):
                pass  # stays 0: its text will not match "0" unless it is "0"
        return arr


def _split(payload: bytes) -> tuple[_Request, _Shape]:
    """Decode and check the packable form: same bytes re-encoded, readings sharing the event's names/origin."""
    try:
        req = _decode(payload)
    except msgspec.DecodeError:
        raise _Unpackable from None
    ev = req.event
    dev, prof, origin = ev.deviceName, ev.profileName, ev.origin
    if not 0 < origin < 2**63 or not ev.readings:
        raise _Unpackable
    for r in ev.readings:
        if r.deviceName != dev or r.profileName != prof or r.origin != origin:
            raise _Unpackable
    if _encode(req) != payload:
        raise _Unpackable  # other key order, whitespace, escapes, extra keys (extensions), ...
    unset = msgspec.UNSET
    slots = tuple(
        (
            r.resourceName,
            r.valueType,
            None if r.units is unset else r.units,
            None if r.tags is unset else _raw_text(r.tags),
        )
        for r in ev.readings
    )
    ev_tags = None if ev.tags is unset else _raw_text(ev.tags)
    return req, (req.apiVersion, ev.apiVersion, dev, prof, ev.sourceName, slots, ev_tags)


def _raw_text(raw: msgspec.Raw) -> str:
    """The exact JSON text of a tags object (device and resource tags repeat, so they are kept once per shape)."""
    text = bytes(raw)
    if not text.startswith(b"{"):
        raise _Unpackable  # tags that are not an object (EdgeX's are maps)
    return text.decode("utf-8")


def _raw(text: str | None) -> msgspec.Raw | msgspec.UnsetType:
    return msgspec.UNSET if text is None else msgspec.Raw(text.encode("utf-8"))


def _wire_shape(s: _Shape) -> list[Any]:
    """A shape on the wire; the tags elements only when present (packs without tags keep the version-2 form)."""
    slots = [[res, vt, units] if tags is None else [res, vt, units, tags] for res, vt, units, tags in s[5]]
    return [*s[:5], slots] if s[6] is None else [*s[:5], slots, s[6]]


def _read_shape(s: Any) -> _Shape:
    """A shape from the wire, every field checked (tags must be JSON objects)."""
    if not 6 <= len(s) <= 7:
        raise ValueError("malformed event pack: a shape has the wrong length")
    slots = []
    for slot in s[5]:
        if not 3 <= len(slot) <= 4:
            raise ValueError("malformed event pack: a reading slot has the wrong length")
        units = None if slot[2] is None else _str(slot[2])
        slots.append((_str(slot[0]), _str(slot[1]), units, _tags_text(slot[3]) if len(slot) == 4 else None))
    ev_tags = _tags_text(s[6]) if len(s) == 7 else None
    return (_str(s[0]), _str(s[1]), _str(s[2]), _str(s[3]), _str(s[4]), tuple(slots), ev_tags)


def _tags_text(x: Any) -> str:
    try:
        ok = type(msgspec.json.decode(_str(x).encode("utf-8"))) is dict
    except msgspec.DecodeError:
        ok = False
    if not ok:
        raise ValueError("malformed event pack: tags are not a JSON object")
    return str(x)


class _ShapeCols:
    """The records of one shape while packing: candidate numbers and value texts per reading slot."""

    def __init__(self, index: int, shape: _Shape) -> None:
        self.index = index
        self.value_types = [ValueType(slot[1]) for slot in shape[5]]
        if any(vt.value != slot[1] for vt, slot in zip(self.value_types, shape[5], strict=True)):
            raise _Unpackable  # a value type spelled other than EdgeX's exact case
        self.dtypes = [_DTYPES.get(vt) for vt in self.value_types]
        self.members: list[int] = []
        self.texts: list[list[str]] = [[] for _ in self.value_types]

    def wire(self, keep: npt.NDArray[np.bool_], typed: list[Any]) -> list[Any]:
        """The wire columns of the kept members (strings as lists, numbers as little-endian arrays)."""
        flags = keep.tolist()
        return [
            [t for t, k in zip(col, flags, strict=True) if k] if isinstance(col, list) else col[keep].tobytes()
            for col in typed
        ]


def pack_events(payloads: Sequence[bytes | None]) -> tuple[list[bool], Any]:
    """Pack the packable payloads (None = not a candidate, e.g. a non-JSON content type).

    Returns:
        (which payloads were packed, the msgpack-able pack; None when nothing was packed).
    """
    shapes: dict[_Shape, _ShapeCols] = {}
    cands: list[tuple[int, _ShapeCols, _Request]] = []  # payload index, shape, decoded request
    for n, payload in enumerate(payloads):
        if payload is None:
            continue
        try:
            req, shape = _split(payload)
            sc = shapes.get(shape)
            if sc is None:
                sc = _ShapeCols(len(shapes), shape)
        except (_Unpackable, ValueError):
            continue
        shapes[shape] = sc
        sc.members.append(len(cands))
        for col, r in zip(sc.texts, req.event.readings, strict=True):
            col.append(r.value)
        cands.append((n, sc, req))
    if not cands:
        return [False] * len(payloads), None
    ids_ok, id_flags, id_bytes = _id_flags([c[2] for c in cands])
    kept = np.array(ids_ok, dtype=bool)
    # Numeric values are kept only where formatting the typed value gives back the exact text (one vectorised
    # formatting call per value type for the whole batch).
    typed: list[list[Any]] = []
    numeric: list[tuple[int, int, ValueType, npt.NDArray[Any]]] = []
    for n_shape, sc in enumerate(shapes.values()):
        cols: list[Any] = []
        for k, (vt, dtype, texts) in enumerate(zip(sc.value_types, sc.dtypes, sc.texts, strict=True)):
            if dtype is None:
                cols.append(texts)
                continue
            arr = _parse_texts(vt, dtype, texts)
            cols.append(arr)
            numeric.append((n_shape, k, vt, arr))
        typed.append(cols)
    keeps = [kept[np.array(sc.members, dtype=np.int64)] for sc in shapes.values()]
    for (n_shape, k, _, _), back in zip(numeric, _format_columns([(vt, a) for _, _, vt, a in numeric]), strict=True):
        texts = list(shapes.values())[n_shape].texts[k]
        keeps[n_shape] &= np.fromiter(map(str.__eq__, back, texts), dtype=bool, count=len(texts))
    wire_cols = []
    for sc, keep, cols in zip(shapes.values(), keeps, typed, strict=True):
        kept[np.array(sc.members, dtype=np.int64)] = keep
        wire_cols.append(sc.wire(keep, cols))
    packed = [False] * len(payloads)
    shape_idx: list[int] = []
    origins: list[int] = []
    flags = bytearray()
    carried = bytearray()
    for (n, sc, req), k, flag, raw in zip(cands, kept.tolist(), id_flags, id_bytes, strict=True):
        if k:
            packed[n] = True
            shape_idx.append(sc.index)
            origins.append(req.event.origin)
            flags.append(flag)
            carried += raw
    if not origins:
        return packed, None
    o = np.array(origins, dtype="<i8")
    o[1:] = np.diff(o)
    pack = (
        [_wire_shape(s) for s in shapes],
        np.array(shape_idx, dtype="<u2").tobytes(),
        o.tobytes(),
        bytes(flags),
        bytes(carried),
        wire_cols,
    )
    return packed, pack


def unpack_events(pack: Any) -> list[bytes]:
    """The payloads of a pack, in packing order.

    Raises:
        ValueError: a malformed pack.
    """
    try:
        return _unpack(pack)
    except (KeyError, TypeError, IndexError, AttributeError, OverflowError, ValueFormatError) as e:
        raise ValueError(f"malformed event pack ({type(e).__name__}: {e})") from None


def check_pack(pack: Any) -> list[int]:
    """Check a pack's structure without rebuilding its payloads; the events' origins, in packing order.

    Everything :func:`unpack_events` relies on is checked (shapes, value types, column and id lengths), so a
    pack that passes can be unpacked later (the receiver commits packs as they are and rebuilds on read).

    Raises:
        ValueError: a malformed pack.
    """
    try:
        return _check(pack)
    except (KeyError, TypeError, IndexError, AttributeError, OverflowError) as e:
        raise ValueError(f"malformed event pack ({type(e).__name__}: {e})") from None


def _check(pack: Any) -> list[int]:
    raw_shapes, shape_b, origin_b, flags, carried, wire_cols = pack
    slots_of = [_read_shape(s)[5] for s in raw_shapes]
    shape_idx = np.frombuffer(shape_b, dtype="<u2")
    origins: list[int] = np.cumsum(np.frombuffer(origin_b, dtype="<i8")).tolist()
    flag_list = list(flags)
    if not (len(shape_idx) == len(origins) == len(flag_list)) or len(wire_cols) != len(slots_of):
        raise ValueError("malformed event pack: column lengths differ")
    if len(shape_idx) and int(shape_idx.max()) >= len(slots_of):
        raise ValueError("malformed event pack: a shape index is out of range")
    counts = np.bincount(shape_idx, minlength=len(slots_of)).tolist()
    for slots, cols, n in zip(slots_of, wire_cols, counts, strict=True):
        if len(slots) != len(cols):
            raise ValueError("malformed event pack: columns do not match the shape")
        for slot, col in zip(slots, cols, strict=True):
            dtype = _DTYPES.get(ValueType(slot[1]))
            if dtype is None:
                if len(col) < n or not all(type(t) is str for t in col):
                    raise ValueError("malformed event pack: a string column is short or holds a non-string")
            elif type(col) is not bytes or len(col) % dtype.itemsize or len(col) < n * dtype.itemsize:
                raise ValueError("malformed event pack: a numeric column is short")
    sizes = [len(slots_of[si]) for si in shape_idx.tolist()]
    need = sum(
        (0 if f & _ID_EVENT else 1) + (0 if f & _ID_REQUEST else 1) + (0 if f & _ID_READINGS else n)
        for f, n in zip(flag_list, sizes, strict=True)
    )
    if len(bytes(carried)) != 16 * need:
        raise ValueError("malformed event pack: carried ids do not match the flags")
    return origins


def _str(x: Any) -> str:
    if type(x) is not str:
        raise ValueError("malformed event pack: a shape field is not a string")
    return x


def _columns(shapes: Sequence[_Shape], wire_cols: Sequence[Any]) -> list[list[list[str]]]:
    """Value strings per shape and reading slot: numeric arrays formatted back to the Go value strings."""
    if len(wire_cols) != len(shapes):
        raise ValueError("malformed event pack: columns do not match the shapes")
    out: list[list[list[str]]] = []
    numeric: list[tuple[int, int, ValueType, npt.NDArray[Any]]] = []
    for n_shape, (shape, cols) in enumerate(zip(shapes, wire_cols, strict=True)):
        if len(shape[5]) != len(cols):
            raise ValueError("malformed event pack: columns do not match the shape")
        per: list[list[str]] = []
        for k, (slot, col) in enumerate(zip(shape[5], cols, strict=True)):
            vt = ValueType(slot[1])
            dtype = _DTYPES.get(vt)
            if dtype is None:
                if not all(type(t) is str for t in col):
                    raise ValueError("malformed event pack: a string column holds a non-string")
                per.append(list(col))
            else:
                per.append([])
                numeric.append((n_shape, k, vt, np.frombuffer(col, dtype=dtype)))
        out.append(per)
    for (n_shape, k, _, _), texts in zip(numeric, _format_columns([(vt, a) for _, _, vt, a in numeric]), strict=True):
        out[n_shape][k] = texts
    return out


def _unpack(pack: Any) -> list[bytes]:
    raw_shapes, shape_b, origin_b, flags, carried, wire_cols = pack
    shapes = [_read_shape(s) for s in raw_shapes]
    shape_idx = np.frombuffer(shape_b, dtype="<u2").tolist()
    origins = np.cumsum(np.frombuffer(origin_b, dtype="<i8")).tolist()
    if not (len(shape_idx) == len(origins) == len(flags)) or len(wire_cols) != len(shapes):
        raise ValueError("malformed event pack: column lengths differ")
    texts = _columns(shapes, wire_cols)
    pos = [0] * len(shapes)
    flag_list = list(flags)
    sizes = [len(shapes[si][5]) for si in shape_idx]
    carried_rows = np.frombuffer(bytes(carried), dtype=np.uint8)
    need = sum(
        (0 if f & _ID_EVENT else 1) + (0 if f & _ID_REQUEST else 1) + (0 if f & _ID_READINGS else n)
        for f, n in zip(flag_list, sizes, strict=True)
    )
    if len(carried_rows) != 16 * need:
        raise ValueError("malformed event pack: carried ids do not match the flags")
    carried_ids = iter(_uuid_strings(carried_rows.reshape(-1, 16)))
    derive = [i for i, f in enumerate(flag_list) if f & _ID_EVENT]
    derived = iter(
        _uuid_strings(
            _uuid5_rows([f"{shapes[shape_idx[i]][2]}/{shapes[shape_idx[i]][4]}/{origins[i]}".encode() for i in derive])
        )
    )
    # Carried ids are in record order (event, request, readings): take them in that order.
    eids: list[str] = []
    given: list[tuple[str | None, list[str] | None]] = []
    names: list[bytes] = []
    for f, n in zip(flag_list, sizes, strict=True):
        eid = next(derived) if f & _ID_EVENT else next(carried_ids)
        rid = None if f & _ID_REQUEST else next(carried_ids)
        rids = None if f & _ID_READINGS else [next(carried_ids) for _ in range(n)]
        eids.append(eid)
        given.append((rid, rids))
        names += _sub_names(eid, n)
    subs = iter(_uuid_strings(_uuid5_rows(names)))
    out = []
    for si, origin, eid, n, (given_rid, given_rids) in zip(shape_idx, origins, eids, sizes, given, strict=True):
        top_api, ev_api, dev, prof, source, slots, ev_tags = shapes[si]
        i = pos[si]
        pos[si] = i + 1
        sub = [next(subs) for _ in range(n + 1)]
        rid = sub[0] if given_rid is None else given_rid
        rids = sub[1:] if given_rids is None else given_rids
        col = texts[si]
        readings = [
            _Reading(
                rids[k], origin, dev, res, prof, vt, msgspec.UNSET if units is None else units, _raw(tags), col[k][i]
            )
            for k, (res, vt, units, tags) in enumerate(slots)
        ]
        event = _Event(ev_api, eid, dev, prof, source, origin, readings, _raw(ev_tags))
        out.append(_encode(_Request(top_api, rid, event)))
    return out
