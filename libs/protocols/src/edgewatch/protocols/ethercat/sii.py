"""The slave information interface (SII EEPROM): building an image (emulator) and reading its categories (master).

Word layout (ETG.1000.6 / ETG.2010): 0x08 vendor id, 0x0A product code, 0x0C revision, 0x0E serial (32-bit each),
0x18/0x19 receive mailbox offset/size, 0x1A/0x1B send mailbox offset/size, 0x1C mailbox protocols; categories
from word 0x40, each a type word, a length in words and the data, ended by type 0xFFFF.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from edgewatch.protocols.ethercat.codec import COE_TYPES
from edgewatch.protocols.ethercat.pdo import Pdo, PdoEntry

__all__ = [
    "CATEGORY_START",
    "CAT_FMMU",
    "CAT_GENERAL",
    "CAT_RXPDO",
    "CAT_SM",
    "CAT_STRINGS",
    "CAT_TXPDO",
    "COE_DETAILS_ALL",
    "MBX_COE",
    "SiiImage",
    "SyncManagerSpec",
    "parse_categories",
    "parse_pdos",
]

CATEGORY_START = 0x40
CAT_STRINGS, CAT_GENERAL, CAT_FMMU, CAT_SM, CAT_TXPDO, CAT_RXPDO = 10, 30, 40, 41, 50, 51
MBX_COE = 0x04
#: CoE details in the general category: SDO, SDO info, PDO assign, PDO config, upload at startup, complete access.
COE_DETAILS_ALL = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20
_TYPE_CODES = {v: k for k, v in COE_TYPES.items()}


@dataclass(frozen=True, slots=True)
class SyncManagerSpec:
    """One SyncManager as the SII describes it (start address, length, control byte, enable)."""

    start: int
    length: int
    control: int
    enable: int = 1


@dataclass(slots=True)
class SiiImage:
    """What a slave's SII says about it; :meth:`build` gives the EEPROM bytes."""

    vendor_id: int
    product_code: int
    revision: int
    serial: int
    name: str
    mailbox: tuple[int, int, int, int] = (0, 0, 0, 0)  # receive offset, size, send offset, size
    mailbox_protocols: int = 0
    coe_details: int = 0
    sync_managers: Sequence[SyncManagerSpec] = ()
    fmmus: Sequence[int] = (1, 2, 3)
    txpdos: Sequence[tuple[Pdo, int]] = ()  # (PDO, SyncManager)
    rxpdos: Sequence[tuple[Pdo, int]] = ()
    alias: int = 0  # configured station alias (word 4; the ESC loads it into register 0x0012 at power-on)
    extra: dict[int, bytes] = field(default_factory=dict)

    def build(self) -> bytes:
        """The EEPROM image (little-endian words)."""
        head = bytearray(CATEGORY_START * 2)
        struct.pack_into("<H", head, 0x04 * 2, self.alias)
        struct.pack_into("<IIII", head, 0x08 * 2, self.vendor_id, self.product_code, self.revision, self.serial)
        struct.pack_into("<HHHHH", head, 0x18 * 2, *self.mailbox, self.mailbox_protocols)
        struct.pack_into("<HH", head, 0x3E * 2, 0x0001, 0x0001)  # size 2 kbit - 1, version 1
        name = self.name.encode("latin-1")
        cats = [
            (CAT_STRINGS, bytes([1, len(name)]) + name),
            (CAT_GENERAL, self._general()),
            (CAT_FMMU, bytes(self.fmmus)),
            (
                CAT_SM,
                b"".join(
                    struct.pack("<HHBBBB", s.start, s.length, s.control, 0, s.enable, 0) for s in self.sync_managers
                ),
            ),
        ]
        if self.txpdos:
            cats.append((CAT_TXPDO, _pdo_category(self.txpdos)))
        if self.rxpdos:
            cats.append((CAT_RXPDO, _pdo_category(self.rxpdos)))
        out = bytearray(head)
        for kind, data in cats:
            if len(data) % 2:
                data += b"\0"
            out += struct.pack("<HH", kind, len(data) // 2) + data
        out += b"\xff\xff\xff\xff"
        return bytes(out)

    def _general(self) -> bytes:
        g = bytearray(32)
        g[3] = 1  # name: string 1
        g[5] = self.coe_details
        return bytes(g)


def _pdo_category(pdos: Sequence[tuple[Pdo, int]]) -> bytes:
    out = bytearray()
    for pdo, sm in pdos:
        out += struct.pack("<HBBBBH", pdo.index, len(pdo.entries), sm, 0, 0, 0)
        for e in pdo.entries:
            out += struct.pack("<HBBBBH", e.index, e.subindex, 0, _TYPE_CODES.get(e.value_type, 0), e.bits, 0)
    return bytes(out)


def parse_categories(image: bytes) -> dict[int, bytes]:
    """Category type -> data of an SII image read from word 0 (the first of each type).

    Raises:
        ValueError: a category runs past the image, or no end marker.
    """
    out: dict[int, bytes] = {}
    pos = CATEGORY_START * 2
    while pos + 2 <= len(image):
        (kind,) = struct.unpack_from("<H", image, pos)
        if kind == 0xFFFF:
            return out
        (words,) = struct.unpack_from("<H", image, pos + 2)
        end = pos + 4 + 2 * words
        if end > len(image):
            raise ValueError(f"SII category {kind} at byte {pos} runs past the image")
        out.setdefault(kind, image[pos + 4 : end])
        pos = end
    raise ValueError("SII has no end of categories")


def parse_pdos(data: bytes) -> list[tuple[Pdo, int]]:
    """The PDOs of an SII TxPDO / RxPDO category with their SyncManager (0xFF: not assigned).

    Raises:
        ValueError: the category is truncated.
    """
    out: list[tuple[Pdo, int]] = []
    pos = 0
    while pos + 8 <= len(data):
        index, n, sm = struct.unpack_from("<HBB", data, pos)
        pos += 8
        if pos + 8 * n > len(data):
            raise ValueError(f"SII PDO 0x{index:04X} is truncated")
        entries = []
        for _ in range(n):
            e_index, e_sub, _name, dtype, bits = struct.unpack_from("<HBBBB", data, pos)
            entries.append(PdoEntry(e_index, e_sub, bits, COE_TYPES.get(dtype, "")))
            pos += 8
        out.append((Pdo(index, tuple(entries)), sm))
    return out
