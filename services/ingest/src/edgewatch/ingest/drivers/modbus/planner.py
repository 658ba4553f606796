"""Read coalescing: group the resources due in a cycle into as few block reads as the protocol allows.

Per table, spans sorted by address are merged while the block stays within one request (125 registers / 2000
bits) and the hole between them is at most ``max_gap`` (reading a few unused registers is cheaper than another
round trip: a request costs a full round trip plus ~12 bytes of framing, a bridged register costs 2 bytes). A
block that bridges holes is marked so the driver can re-plan without bridging when a device rejects the holes
with ILLEGAL_DATA_ADDRESS.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from edgewatch.protocols.modbus.attributes import Table

__all__ = ["DEFAULT_MAX_GAP_BITS", "DEFAULT_MAX_GAP_REGISTERS", "Block", "Span", "plan_blocks"]

DEFAULT_MAX_GAP_REGISTERS = 16
DEFAULT_MAX_GAP_BITS = 128

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Span(Generic[K]):
    """One value to read: ``count`` registers (or bits) of ``table`` from ``address``."""

    key: K
    table: Table
    address: int
    count: int

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class Block(Generic[K]):
    """One read request and the spans it serves."""

    table: Table
    address: int
    count: int
    spans: tuple[Span[K], ...]
    bridged: bool

    def slice(self, values: Sequence[int] | Sequence[bool], span: Span[K]) -> Sequence[int] | Sequence[bool]:
        """The part of a block read that belongs to ``span``."""
        start = span.address - self.address
        return values[start : start + span.count]


def plan_blocks(
    spans: Iterable[Span[K]],
    *,
    max_gap_registers: int = DEFAULT_MAX_GAP_REGISTERS,
    max_gap_bits: int = DEFAULT_MAX_GAP_BITS,
) -> list[Block[K]]:
    """Coalesce spans into blocks (deterministic order: table, then address).

    Overlapping spans share registers; a span longer than one request is an error the attribute parser already
    rules out.
    """
    by_table: dict[Table, list[Span[K]]] = {}
    for s in spans:
        by_table.setdefault(s.table, []).append(s)
    blocks: list[Block[K]] = []
    for table in Table:
        items = sorted(by_table.get(table, ()), key=lambda s: (s.address, s.count))
        if not items:
            continue
        limit = table.max_per_read
        gap_limit = max_gap_bits if table.is_bit else max_gap_registers
        cur: list[Span[K]] = [items[0]]
        start, end, bridged = items[0].address, items[0].end, False
        for s in items[1:]:
            new_end = max(end, s.end)
            gap = s.address - end
            if new_end - start <= limit and gap <= gap_limit:
                cur.append(s)
                bridged = bridged or gap > 0
                end = new_end
                continue
            blocks.append(Block(table, start, end - start, tuple(cur), bridged))
            cur, start, end, bridged = [s], s.address, s.end, False
        blocks.append(Block(table, start, end - start, tuple(cur), bridged))
    return blocks
