"""Where each PDO entry of a slave lies: read from CoE 0x1C12 / 0x1C13 (and 0x16xx / 0x1Axx) or from the SII.

SOEM maps a slave's RxPDOs into its output image and its TxPDOs into its input image in assignment order; this
module reads the same assignment so that a resource named by ``index:subindex`` finds its bit offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from edgewatch.protocols.ethercat.pdo import Pdo, ProcessLayout, parse_entry_word
from edgewatch.protocols.ethercat.sii import CAT_RXPDO, CAT_TXPDO, CATEGORY_START, MBX_COE, parse_pdos
from edgewatch.protocols.ethercat.soemadapter import SoemLine

__all__ = ["SlaveInfo", "read_slave"]

_SII_LIMIT_WORDS = 4096


@dataclass(frozen=True, slots=True)
class SlaveInfo:
    """One slave as configured: identity, alias, and the layout of its output and input images."""

    position: int
    name: str
    vendor_id: int
    product_code: int
    revision: int
    alias: int
    coe: bool
    outputs: ProcessLayout
    inputs: ProcessLayout
    source: str  # "CoE 0x1C12/0x1C13" or "SII"


def _coe_layout(line: SoemLine, position: int, assign: int) -> ProcessLayout:
    count = line.sdo_read(position, assign, 0, 1)[0]
    pdos = []
    for i in range(1, count + 1):
        (pdo_index,) = struct.unpack("<H", line.sdo_read(position, assign, i, 2)[:2])
        n = line.sdo_read(position, pdo_index, 0, 1)[0]
        entries = tuple(
            parse_entry_word(struct.unpack("<I", line.sdo_read(position, pdo_index, s, 4)[:4])[0])
            for s in range(1, n + 1)
        )
        pdos.append(Pdo(pdo_index, entries))
    return ProcessLayout(pdos)


def _sii_words(line: SoemLine, position: int, word: int, count: int) -> bytes:
    out = bytearray()
    while len(out) < 2 * count:
        out += line.sii_read(position, word + len(out) // 2)
    return bytes(out[: 2 * count])


def _sii_categories(line: SoemLine, position: int) -> dict[int, bytes]:
    cats: dict[int, bytes] = {}
    word = CATEGORY_START
    while word < _SII_LIMIT_WORDS:
        kind, length = struct.unpack("<HH", _sii_words(line, position, word, 2))
        if kind == 0xFFFF:
            break
        cats.setdefault(kind, _sii_words(line, position, word + 2, length) if length else b"")
        word += 2 + length
    return cats


def _sii_layout(cats: dict[int, bytes], kind: int) -> ProcessLayout:
    pdos = [(pdo, sm) for pdo, sm in parse_pdos(cats.get(kind, b"")) if sm != 0xFF]
    pdos.sort(key=lambda p: p[1])  # SOEM maps SyncManager by SyncManager; PDO order kept within each
    return ProcessLayout(pdo for pdo, _ in pdos)


def read_slave(line: SoemLine, position: int) -> SlaveInfo:
    """Read a configured slave's identity and PDO layout.

    Raises:
        SoemError: an SDO or SII read failed.
    """
    name, vendor, product, revision = line.identity(position)
    alias = struct.unpack("<H", line.sii_read(position, 0x0004)[:2])[0]
    protocols = struct.unpack("<H", line.sii_read(position, 0x001C)[:2])[0]
    coe = bool(protocols & MBX_COE)
    if coe:
        outputs, inputs = _coe_layout(line, position, 0x1C12), _coe_layout(line, position, 0x1C13)
        source = "CoE 0x1C12/0x1C13"
    else:
        cats = _sii_categories(line, position)
        outputs, inputs = _sii_layout(cats, CAT_RXPDO), _sii_layout(cats, CAT_TXPDO)
        source = "SII"
    return SlaveInfo(position, name, vendor, product, revision, alias, coe, outputs, inputs, source)
