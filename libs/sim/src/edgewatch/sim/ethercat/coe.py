"""A CoE object dictionary and the SDO server of the emulated mailbox (expedited, normal, complete access).

Only what SOEM and the driver use: SDO upload / download (no segmented transfer: objects fit one mailbox),
complete access from subindex 0 or 1, and SDO aborts sent with the CoE service "SDO request" as slave stacks do.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from edgewatch.protocols.ethercat.codec import decode_bytes, encode_bytes
from edgewatch.protocols.ethercat.state import State

__all__ = ["ABORT", "CoeObject", "ObjectDictionary", "SdoServer", "Var"]

ABORT = {
    "no_object": 0x06020000,
    "no_subindex": 0x06090011,
    "read_only": 0x06010002,
    "length": 0x06070010,
    "state": 0x08000022,
    "value": 0x06090030,
    "command": 0x05040001,
}
MBX_COE = 0x03
COE_SDO_REQ, COE_SDO_RES = 0x02, 0x03


@dataclass(slots=True)
class Var:
    """One subindex: its EdgeX value type, current value and who may write it ("" read-only, "rw", "preop")."""

    value_type: str
    value: Any
    access: str = ""

    def payload(self) -> bytes:
        """The value as SDO bytes."""
        return encode_bytes(self.value, self.value_type if self.value_type != "Bool" else "Uint8")


@dataclass(slots=True)
class CoeObject:
    """An object: a variable (subindex 0 only) or a record/array (subindex 0 = number of entries)."""

    name: str
    subs: dict[int, Var] = field(default_factory=dict)
    record: bool = False

    @property
    def count(self) -> int:
        """Entries in use (records)."""
        return int(self.subs[0].value) if self.record else 0


class ObjectDictionary(dict[int, CoeObject]):
    """index -> object, with typed access to a (index, subindex) variable."""

    def var(self, index: int, subindex: int) -> Var:
        """The variable at ``index:subindex`` (KeyError when absent)."""
        return self[index].subs[subindex]

    def value(self, index: int, subindex: int) -> Any:
        """The value at ``index:subindex`` (KeyError when absent)."""
        return self[index].subs[subindex].value


class SdoServer:
    """Answers SDO mailbox requests from an object dictionary; ``state`` is the slave's AL state when asked."""

    def __init__(self, od: ObjectDictionary) -> None:
        self.od = od

    def upload(self, index: int, subindex: int, ca: bool) -> bytes | int:
        """The object's bytes, or an abort code."""
        obj = dict.get(self.od, index)
        if obj is None:
            return ABORT["no_object"]
        if not ca:
            var = obj.subs.get(subindex)
            return ABORT["no_subindex"] if var is None else var.payload()
        if not obj.record:
            return obj.subs[0].payload()
        body = b"".join(obj.subs[s].payload() for s in range(1, obj.count + 1) if s in obj.subs)
        return bytes([obj.count, 0]) + body if subindex == 0 else body

    def download(self, index: int, subindex: int, ca: bool, data: bytes, state: int) -> int:
        """Write the object; 0 or an abort code."""
        obj = dict.get(self.od, index)
        if obj is None:
            return ABORT["no_object"]
        if not ca:
            var = obj.subs.get(subindex)
            if var is None:
                return ABORT["no_subindex"]
            return self._store(var, data, state)
        pos = 0
        if subindex == 0 and obj.record:
            if len(data) < 2:
                return ABORT["length"]
            code = self._store(obj.subs[0], data[:1], state)
            if code:
                return code
            pos = 2
        for s in range(1, obj.count + 1):
            var = obj.subs.get(s)
            if var is None:
                return ABORT["no_subindex"]
            n = len(var.payload())
            code = self._store(var, data[pos : pos + n], state)
            if code:
                return code
            pos += n
        return 0

    @staticmethod
    def _store(var: Var, data: bytes, state: int) -> int:
        if not var.access:
            return ABORT["read_only"]
        if var.access == "preop" and state != State.PRE_OP:
            return ABORT["state"]
        vt = var.value_type if var.value_type != "Bool" else "Uint8"
        if vt not in ("String", "Binary") and len(data) != len(encode_bytes(0 if vt != "Float32" else 0.0, vt)):
            return ABORT["length"]
        value = decode_bytes(data, vt)
        var.value = bool(value) if var.value_type == "Bool" else value
        return 0

    def handle(self, request: bytes, state: int) -> bytes | None:
        """A mailbox request -> the mailbox response (None: not a CoE SDO request)."""
        length, address, channel, type_cnt = struct.unpack_from("<HHBB", request, 0)
        if type_cnt & 0x0F != MBX_COE or length < 10:
            return None
        (coe,) = struct.unpack_from("<H", request, 6)
        if coe >> 12 != COE_SDO_REQ:
            return None
        command, index, subindex = struct.unpack_from("<BHB", request, 8)
        ca = bool(command & 0x10)
        ccs = command >> 5
        head = struct.pack("<HBB", address, channel, type_cnt)
        if ccs == 2:  # upload
            got = self.upload(index, subindex, ca)
            if isinstance(got, int):
                return _abort(head, index, subindex, got)
            if len(got) <= 4 and not ca:
                cmd = 0x43 | ((4 - len(got)) << 2)
                return _sdo(head, cmd, index, subindex, got.ljust(4, b"\0"))
            return _sdo(head, 0x41, index, subindex, struct.pack("<I", len(got)) + got)
        if ccs == 1:  # download
            if command & 0x02:  # expedited
                size = 4 - ((command >> 2) & 0x03) if command & 0x01 else 4
                data = request[12 : 12 + size]
            else:
                (size,) = struct.unpack_from("<I", request, 12)
                data = request[16 : 16 + size]
            code = self.download(index, subindex, ca, bytes(data), state)
            if code:
                return _abort(head, index, subindex, code)
            return _sdo(head, 0x60, index, subindex, b"\0\0\0\0")
        return _abort(head, index, subindex, ABORT["command"])


def _sdo(head: bytes, command: int, index: int, subindex: int, data: bytes, service: int = COE_SDO_RES) -> bytes:
    body = struct.pack("<HBHB", service << 12, command, index, subindex) + data
    return struct.pack("<H", len(body)) + head + body


def _abort(head: bytes, index: int, subindex: int, code: int) -> bytes:
    return _sdo(head, 0x80, index, subindex, struct.pack("<I", code), service=COE_SDO_REQ)
