"""A line of emulated slaves answering EtherCAT frames: each datagram is applied to every slave in line order.

Addressing (ETG.1000.4): auto-increment (APxx: the slave whose position + ADP is 0), configured station address
(FPxx), broadcast (Bxx: reads are ORed) and logical (Lxx, through each slave's FMMUs). The working counter is
incremented as ESCs do: +1 per read, +1 per write (+2 for the write half of LRW / xPRW). A slave that was
dropped (unplugged) ends the line: it and every slave behind it answer nothing until restored.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence

from edgewatch.sim.ethercat.esc import Esc

__all__ = ["ETHERTYPE", "Chain"]

ETHERTYPE = 0x88A4
_DGRAM = struct.Struct("<BBHHHH")
_WKC = struct.Struct("<H")
APRD, APWR, APRW, FPRD, FPWR, FPRW, BRD, BWR, BRW, LRD, LWR, LRW, ARMW, FRMW = range(1, 15)
_READS = {APRD, FPRD, BRD, APRW, FPRW, BRW}
_WRITES = {APWR, FPWR, BWR, APRW, FPRW, BRW}


class Chain:
    """The slaves of one line, in order; :meth:`process` answers a frame in place."""

    def __init__(self, slaves: Sequence[Esc]) -> None:
        self.slaves = list(slaves)
        self.lock = threading.Lock()
        self.frames = 0
        self._ports()

    def _ports(self) -> None:
        live = self.live()
        for i, s in enumerate(self.slaves):
            # ports 0 and 1 communicating when a live slave follows, port 0 only at the end of the line
            s.dl_status = 0x0A00 if i + 1 < len(live) else 0x0200

    def live(self) -> list[Esc]:
        """The slaves a frame reaches (up to the first dropped one)."""
        out = []
        for s in self.slaves:
            if not s.present:
                break
            out.append(s)
        return out

    def drop(self, position: int) -> None:
        """Unplug the slave at ``position`` (1-based)."""
        with self.lock:
            self.slaves[position - 1].present = False
            self._ports()

    def restore(self, position: int) -> None:
        """Plug it back in: it powers up in INIT with no configuration."""
        with self.lock:
            s = self.slaves[position - 1]
            s.reset()
            s.present = True
            self._ports()
            s.reset()

    def fault(self, position: int, code: int) -> None:
        """Make the slave leave OP for SAFE_OP+ERROR with ``code``."""
        with self.lock:
            self.slaves[position - 1].fault(code)

    def process(self, frame: bytearray, length: int) -> bool:
        """Apply every datagram of an EtherCAT frame (from byte 14); False when it is none."""
        if length < 16 + 12 or frame[12] != 0x88 or frame[13] != 0xA4:
            return False
        (head,) = struct.unpack_from("<H", frame, 14)
        if head >> 12 != 1:
            return False
        pos, end = 16, 16 + (head & 0x7FF)
        logical = False
        with self.lock:
            slaves = self.live()
            while pos + 12 <= min(end, length):
                command, _idx, adp, ado, lenf, _irq = _DGRAM.unpack_from(frame, pos)
                n = lenf & 0x7FF
                data = pos + 10
                if data + n + 2 > length:
                    return False
                inc = self._datagram(slaves, command, adp, ado, frame, data, n)
                if inc:
                    (wkc,) = _WKC.unpack_from(frame, data + n)
                    _WKC.pack_into(frame, data + n, (wkc + inc) & 0xFFFF)
                logical = logical or command in (LRD, LWR, LRW)
                pos = data + n + 2
                if not lenf & 0x8000:
                    break
            if logical:
                for s in slaves:
                    s.step()
            self.frames += 1
        return True

    @staticmethod
    def _datagram(slaves: Sequence[Esc], command: int, adp: int, ado: int, frame: bytearray, off: int, n: int) -> int:
        if command in (LRD, LWR, LRW):
            laddr = adp | (ado << 16)
            return sum(s.logical(command, laddr, frame, off, n) for s in slaves)
        inc = 0
        if command in (BRD, BWR, BRW):
            acc = bytearray(n)
            payload = bytes(frame[off : off + n])
            for s in slaves:
                if command != BWR:
                    got = s.read(ado, n)
                    acc = bytearray(a | b for a, b in zip(acc, got, strict=True))
                if command != BRD:
                    s.write(ado, payload)
                inc += 1
            if command != BWR:
                frame[off : off + n] = acc
            return inc
        for pos, s in enumerate(slaves):
            if command in (APRD, APWR, APRW, ARMW):
                hit = (adp + pos) & 0xFFFF == 0
            else:
                hit = s.station == adp
            if command in (ARMW, FRMW):
                if hit:
                    frame[off : off + n] = s.read(ado, n)
                else:
                    s.write(ado, bytes(frame[off : off + n]))
                inc += 1
                continue
            if not hit:
                continue
            payload = bytes(frame[off : off + n])
            if command in _READS:
                frame[off : off + n] = s.read(ado, n)
                inc += 1
            if command in _WRITES:
                s.write(ado, payload)
                inc += 2 if command in _READS else 1
            return inc
        return inc
