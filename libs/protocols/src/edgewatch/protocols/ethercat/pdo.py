"""PDO entries and where they lie in a slave's process image (the order SOEM maps them in).

A slave's output image is its RxPDOs (master -> slave), its input image its TxPDOs, each in the order the
slave assigns them (CoE 0x1C12 / 0x1C13, or the SII RxPDO / TxPDO categories), entries packed bit after bit.
Entries with index 0 are padding: they take bits but name nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["MappedEntry", "Pdo", "PdoEntry", "ProcessLayout", "entry_word", "parse_entry_word"]


@dataclass(frozen=True, slots=True)
class PdoEntry:
    """One mapped object: index, subindex, its size in bits and (for the emulator) its EdgeX value type."""

    index: int
    subindex: int
    bits: int
    value_type: str = ""


@dataclass(frozen=True, slots=True)
class Pdo:
    """One PDO (0x16xx RxPDO or 0x1Axx TxPDO) and its entries."""

    index: int
    entries: tuple[PdoEntry, ...]

    @property
    def bits(self) -> int:
        """Total size in bits."""
        return sum(e.bits for e in self.entries)


@dataclass(frozen=True, slots=True)
class MappedEntry:
    """An entry and its bit offset in the slave's (input or output) image."""

    entry: PdoEntry
    bit_offset: int


def entry_word(entry: PdoEntry) -> int:
    """The 32-bit mapping value of a 0x16xx / 0x1Axx subindex (index << 16 | subindex << 8 | bits)."""
    return (entry.index << 16) | (entry.subindex << 8) | entry.bits


def parse_entry_word(word: int) -> PdoEntry:
    """The entry a 32-bit mapping value names."""
    return PdoEntry((word >> 16) & 0xFFFF, (word >> 8) & 0xFF, word & 0xFF)


class ProcessLayout:
    """The entries of one direction of a slave's process image with their bit offsets."""

    def __init__(self, pdos: Iterable[Pdo]) -> None:
        self.pdos: tuple[Pdo, ...] = tuple(pdos)
        mapped: list[MappedEntry] = []
        offset = 0
        for pdo in self.pdos:
            for e in pdo.entries:
                mapped.append(MappedEntry(e, offset))
                offset += e.bits
        self.entries: tuple[MappedEntry, ...] = tuple(mapped)
        self.bits = offset
        self._by_key = {(m.entry.index, m.entry.subindex): m for m in mapped if m.entry.index}

    @property
    def nbytes(self) -> int:
        """Size of the image in bytes (SOEM rounds each SyncManager up to whole bytes)."""
        return (self.bits + 7) // 8

    def find(self, index: int, subindex: int) -> MappedEntry | None:
        """The mapped entry ``index:subindex`` (None when the slave does not map it)."""
        return self._by_key.get((index, subindex))

    def describe(self) -> Sequence[str]:
        """``0xIIII:SS/bits@offset`` for each named entry (for error messages)."""
        return [f"0x{m.entry.index:04X}:{m.entry.subindex:02X}/{m.entry.bits}@{m.bit_offset}" for m in self.entries]
