"""Block planner: contiguous spans coalesce, holes are bridged only when small, request limits hold."""

from __future__ import annotations

from edgewatch.ingest.drivers.modbus.planner import Span, plan_blocks
from edgewatch.protocols.modbus.attributes import Table

HR = Table.HOLDING_REGISTERS


def test_planner_merges_contiguous_registers_into_one_block():
    spans = [Span(f"r{i}", HR, i * 2, 2) for i in range(10)]
    blocks = plan_blocks(spans)
    assert [(b.address, b.count, b.bridged) for b in blocks] == [(0, 20, False)]
    assert {s.key for s in blocks[0].spans} == {f"r{i}" for i in range(10)}


def test_planner_bridges_small_gaps_and_splits_large_ones():
    spans = [Span("a", HR, 0, 1), Span("b", HR, 5, 1), Span("c", HR, 100, 1)]
    blocks = plan_blocks(spans, max_gap_registers=8)
    assert [(b.address, b.count, b.bridged) for b in blocks] == [(0, 6, True), (100, 1, False)]
    assert len(plan_blocks(spans, max_gap_registers=0)) == 3


def test_planner_respects_125_register_and_2000_bit_limits():
    regs = plan_blocks([Span(i, HR, i, 1) for i in range(300)])
    assert [b.count for b in regs] == [125, 125, 50]
    bits = plan_blocks([Span(i, Table.COILS, i, 1) for i in range(4500)])
    assert [b.count for b in bits] == [2000, 2000, 500]


def test_planner_keeps_tables_apart_and_slices_values():
    spans = [Span("h", HR, 3, 2), Span("i", Table.INPUT_REGISTERS, 3, 2), Span("h2", HR, 4, 1)]
    blocks = plan_blocks(spans)
    assert len(blocks) == 2
    hr = next(b for b in blocks if b.table is HR)
    words = [10, 11]
    assert list(hr.slice(words, Span("h", HR, 3, 2))) == [10, 11]
    assert list(hr.slice(words, Span("h2", HR, 4, 1))) == [11]
