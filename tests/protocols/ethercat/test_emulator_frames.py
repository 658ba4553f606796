"""The emulator's frame handling on hand-built frames (no socket): addressing, working counters, SII, mailbox."""

from __future__ import annotations

import struct

from edgewatch.sim.ethercat import default_chain
from edgewatch.sim.ethercat.chain import APWR, BRD, BWR, FPRD, FPWR, LRW


def _frame(*datagrams: tuple[int, int, int, bytes]) -> bytearray:
    body = bytearray()
    for i, (cmd, adp, ado, data) in enumerate(datagrams):
        more = 0x8000 if i + 1 < len(datagrams) else 0
        body += struct.pack("<BBHHHH", cmd, i, adp, ado, len(data) | more, 0) + data + b"\0\0"
    head = b"\xff" * 6 + b"\x01" * 6 + b"\x88\xa4" + struct.pack("<H", len(body) | 0x1000)
    return bytearray(head + body)


def _datagram(frame: bytearray, n: int) -> tuple[bytes, int]:
    pos = 16
    for _ in range(n + 1):
        _c, _i, _a, _o, lenf, _irq = struct.unpack_from("<BBHHHH", frame, pos)
        data = bytes(frame[pos + 10 : pos + 10 + (lenf & 0x7FF)])
        (wkc,) = struct.unpack_from("<H", frame, pos + 10 + (lenf & 0x7FF))
        pos += 12 + (lenf & 0x7FF)
    return data, wkc


def test_broadcast_read_counts_every_slave_and_dropped_slave_ends_the_line():
    chain = default_chain()
    f = _frame((BRD, 0, 0x0000, b"\0\0"))
    assert chain.process(f, len(f))
    assert _datagram(f, 0) == (b"\x11\x01", 2)  # slave count = working counter
    chain.drop(2)
    f = _frame((BRD, 0, 0x0000, b"\0\0"))
    chain.process(f, len(f))
    assert _datagram(f, 0)[1] == 1


def test_station_address_sii_read_and_al_state_follow_register_writes():
    chain = default_chain()
    f = _frame(
        (APWR, 0xFFFF, 0x0010, struct.pack("<H", 0x1002)),  # position 2 (ADP -1)
        (FPWR, 0x1002, 0x0502, struct.pack("<HHH", 0x0100, 0x0008, 0)),  # SII read of word 8 (vendor id)
        (FPRD, 0x1002, 0x0508, bytes(8)),
        (BWR, 0, 0x0120, struct.pack("<H", 0x0002)),  # INIT -> PRE_OP on every slave
        (FPRD, 0x1002, 0x0130, bytes(2)),
    )
    chain.process(f, len(f))
    assert _datagram(f, 0)[1] == 1
    data, wkc = _datagram(f, 2)
    assert (struct.unpack_from("<II", data), wkc) == ((0xE7C, 0x20001), 1)
    # the drive refuses PRE_OP: its mailbox SyncManagers are not configured (AL status code 0x0016)
    assert chain.slaves[0].state == 1 and chain.slaves[0].code == 0x0016
    assert _datagram(f, 4) == (b"\x02\x00", 1)


def test_lrw_without_fmmus_leaves_the_frame_and_counter_alone():
    chain = default_chain()
    f = _frame((LRW, 0, 0, bytes(8)))
    chain.process(f, len(f))
    assert _datagram(f, 0) == (bytes(8), 0)
