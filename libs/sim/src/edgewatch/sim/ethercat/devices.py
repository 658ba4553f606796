"""The emulated chain's two slaves: a CoE drive (mailbox, SDO, PDO mapping in 0x1C12/0x1C13) and SII-only I/O.

- ``EW-Drive`` (position 1): RxPDO 0x1600 = controlword 0x6040, target velocity 0x60FF; TxPDO 0x1A00 = statusword
  0x6041 (0x0237 "operation enabled" once the controlword is 0x000F, else 0x0250), actual velocity 0x606C (follows
  the target), and 0x1A01 = 0x2001:01..09, one fixed value of every scalar type plus a frame counter. Parameters
  0x2000:01 (Uint32) and 0x2000:02 (Float32) are read/write; the PDO assignment and mapping are writable in PRE_OP.
- ``EW-IO`` (position 2, station alias 0x0100): no mailbox; RxPDO 0x1600 = eight output bits 0x7000:01..08 and
  an Int16 0x7010:01; TxPDO 0x1A00 = eight input bits 0x6000:01..08 that mirror the outputs and 0x6010:01 that
  mirrors the Int16.
"""

from __future__ import annotations

from typing import Final

from edgewatch.protocols.ethercat.codec import SCALAR_BITS, decode_bits, encode_bits
from edgewatch.protocols.ethercat.pdo import Pdo, PdoEntry, ProcessLayout, entry_word, parse_entry_word
from edgewatch.protocols.ethercat.sii import COE_DETAILS_ALL, MBX_COE, SiiImage, SyncManagerSpec
from edgewatch.sim.ethercat.coe import CoeObject, ObjectDictionary, SdoServer, Var
from edgewatch.sim.ethercat.esc import Esc

__all__ = ["DRIVE_PRODUCT", "FIXED_INPUTS", "IO_ALIAS", "IO_PRODUCT", "VENDOR_ID", "drive_slave", "io_slave"]

VENDOR_ID: Final = 0x00000E7C
DRIVE_PRODUCT: Final = 0x00010001
IO_PRODUCT: Final = 0x00020001
IO_ALIAS: Final = 0x0100  # the I/O slave's station alias (SII word 4)

#: 0x2001:sub -> (valueType, value): what the drive's TxPDO 0x1A01 always carries (sub 9 is the frame counter).
FIXED_INPUTS: Final[dict[int, tuple[str, object]]] = {
    1: ("Int8", -5),
    2: ("Uint8", 200),
    3: ("Int16", -1234),
    4: ("Uint32", 3_000_000_000),
    5: ("Int64", -9_000_000_000),
    6: ("Uint64", 18_000_000_000_000_000_000),
    7: ("Float32", 1.5),
    8: ("Float64", -2.25),
    9: ("Uint16", 0),
}


class OdApp:
    """A slave application whose process data are object dictionary variables (mapped as the OD says)."""

    def __init__(self, od: ObjectDictionary, logic: str) -> None:
        self.od = od
        self.logic = logic

    def _layout(self, assign: int) -> ProcessLayout:
        pdos = []
        for i in range(1, self.od[assign].count + 1):
            pdo_index = int(self.od.value(assign, i))
            obj = self.od[pdo_index]
            entries = []
            for s in range(1, obj.count + 1):
                e = parse_entry_word(int(obj.subs[s].value))
                vt = self.od.var(e.index, e.subindex).value_type if e.index else ""
                entries.append(PdoEntry(e.index, e.subindex, e.bits, vt))
            pdos.append(Pdo(pdo_index, tuple(entries)))
        return ProcessLayout(pdos)

    def layouts(self) -> tuple[ProcessLayout, ProcessLayout]:
        """(outputs from 0x1C12, inputs from 0x1C13)."""
        self._out, self._in = self._layout(0x1C12), self._layout(0x1C13)
        return self._out, self._in

    def step(self, outputs: bytes | None, inputs: bytearray) -> None:
        """Outputs -> variables, the device logic, variables -> inputs."""
        od = self.od
        if outputs is not None:
            for m in self._out.entries:
                if m.entry.index:
                    var = od.var(m.entry.index, m.entry.subindex)
                    var.value = decode_bits(outputs, m.bit_offset, var.value_type)
        if self.logic == "drive":
            od.var(0x6041, 0).value = 0x0237 if od.value(0x6040, 0) & 0x0F == 0x0F else 0x0250
            od.var(0x606C, 0).value = od.value(0x60FF, 0)
            counter = od.var(0x2001, 9)
            counter.value = (counter.value + 1) & 0xFFFF
        else:
            for b in range(1, 9):
                od.var(0x6000, b).value = od.value(0x7000, b)
            od.var(0x6010, 1).value = od.value(0x7010, 1)
        for m in self._in.entries:
            if m.entry.index:
                var = od.var(m.entry.index, m.entry.subindex)
                encode_bits(inputs, m.bit_offset, var.value_type, var.value)


def _mapping(od: ObjectDictionary, index: int, name: str, entries: list[tuple[int, int, str]]) -> Pdo:
    pdo = Pdo(index, tuple(PdoEntry(i, s, SCALAR_BITS[vt], vt) for i, s, vt in entries))
    subs = {0: Var("Uint8", len(entries), "preop")}
    subs.update({n: Var("Uint32", entry_word(e), "preop") for n, e in enumerate(pdo.entries, 1)})
    od[index] = CoeObject(name, subs, record=True)
    return pdo


def _assign(od: ObjectDictionary, index: int, pdos: list[int]) -> None:
    subs = {0: Var("Uint8", len(pdos), "preop")}
    subs.update({n: Var("Uint16", p, "preop") for n, p in enumerate(pdos, 1)})
    od[index] = CoeObject("SM PDO assign", subs, record=True)


def _identity(od: ObjectDictionary, name: str, product: int) -> None:
    od[0x1000] = CoeObject("Device type", {0: Var("Uint32", 0x00020192)})
    od[0x1008] = CoeObject("Device name", {0: Var("String", name)})
    ident = {0: Var("Uint8", 4), 1: Var("Uint32", VENDOR_ID), 2: Var("Uint32", product)}
    ident.update({3: Var("Uint32", 1), 4: Var("Uint32", 0x1234)})
    od[0x1018] = CoeObject("Identity", ident, record=True)


def drive_slave() -> Esc:
    """Position 1: the CoE drive."""
    od = ObjectDictionary()
    _identity(od, "EW-Drive", DRIVE_PRODUCT)
    sm_types = {0: Var("Uint8", 4), 1: Var("Uint8", 1), 2: Var("Uint8", 2), 3: Var("Uint8", 3), 4: Var("Uint8", 4)}
    od[0x1C00] = CoeObject("SM types", sm_types, record=True)
    od[0x6040] = CoeObject("Controlword", {0: Var("Uint16", 0, "rw")})
    od[0x60FF] = CoeObject("Target velocity", {0: Var("Int32", 0, "rw")})
    od[0x6041] = CoeObject("Statusword", {0: Var("Uint16", 0x0250)})
    od[0x606C] = CoeObject("Velocity actual value", {0: Var("Int32", 0)})
    fixed = {0: Var("Uint8", len(FIXED_INPUTS))}
    fixed.update({s: Var(vt, v) for s, (vt, v) in FIXED_INPUTS.items()})
    od[0x2001] = CoeObject("Test inputs", fixed, record=True)
    od[0x2000] = CoeObject(
        "Parameters", {0: Var("Uint8", 2), 1: Var("Uint32", 100, "rw"), 2: Var("Float32", 0.5, "rw")}, record=True
    )
    rx = [_mapping(od, 0x1600, "RxPDO 1", [(0x6040, 0, "Uint16"), (0x60FF, 0, "Int32")])]
    tx = [
        _mapping(od, 0x1A00, "TxPDO 1", [(0x6041, 0, "Uint16"), (0x606C, 0, "Int32")]),
        _mapping(od, 0x1A01, "TxPDO 2", [(0x2001, s, vt) for s, (vt, _) in FIXED_INPUTS.items()]),
    ]
    _assign(od, 0x1C12, [0x1600])
    _assign(od, 0x1C13, [0x1A00, 0x1A01])
    app = OdApp(od, "drive")
    out_bytes, in_bytes = (sum(p.bits for p in rx) + 7) // 8, (sum(p.bits for p in tx) + 7) // 8
    sii = SiiImage(
        VENDOR_ID,
        DRIVE_PRODUCT,
        1,
        0x1234,
        "EW-Drive",
        mailbox=(0x1000, 128, 0x1080, 128),
        mailbox_protocols=MBX_COE,
        coe_details=COE_DETAILS_ALL,
        sync_managers=(
            SyncManagerSpec(0x1000, 128, 0x26),
            SyncManagerSpec(0x1080, 128, 0x22),
            SyncManagerSpec(0x1100, out_bytes, 0x64),
            SyncManagerSpec(0x1180, in_bytes, 0x20),
        ),
    )
    return Esc(sii, app, SdoServer(od).handle, pd_sms=(2, 3))


def io_slave() -> Esc:
    """Position 2: SII-only digital and analog I/O."""
    od = ObjectDictionary()
    od[0x7000] = CoeObject("Outputs", {0: Var("Uint8", 8), **{b: Var("Bool", False) for b in range(1, 9)}}, record=True)
    od[0x7010] = CoeObject("Analog out", {0: Var("Uint8", 1), 1: Var("Int16", 0)}, record=True)
    od[0x6000] = CoeObject("Inputs", {0: Var("Uint8", 8), **{b: Var("Bool", False) for b in range(1, 9)}}, record=True)
    od[0x6010] = CoeObject("Analog in", {0: Var("Uint8", 1), 1: Var("Int16", 0)}, record=True)
    rx = _mapping(od, 0x1600, "RxPDO", [(0x7000, b, "Bool") for b in range(1, 9)] + [(0x7010, 1, "Int16")])
    tx = _mapping(od, 0x1A00, "TxPDO", [(0x6000, b, "Bool") for b in range(1, 9)] + [(0x6010, 1, "Int16")])
    _assign(od, 0x1C12, [0x1600])
    _assign(od, 0x1C13, [0x1A00])
    sii = SiiImage(
        VENDOR_ID,
        IO_PRODUCT,
        1,
        0x5678,
        "EW-IO",
        sync_managers=(SyncManagerSpec(0x1000, 3, 0x64), SyncManagerSpec(0x1100, 3, 0x20)),
        alias=IO_ALIAS,
        txpdos=((tx, 1),),
        rxpdos=((rx, 0),),
    )
    return Esc(sii, OdApp(od, "io"), None, pd_sms=(0, 1))
