"""One emulated EtherCAT slave controller: registers, AL states, SII access, SyncManager mailbox, FMMUs.

Registers and DPRAM are one 8 KiB byte array. Read-only registers (type, DL status, AL status, SM status) are
restored after every register write. The slave's application (:class:`SlaveApp`) runs after each frame with process
data: it reads its outputs from the output SyncManager's buffer and writes its inputs into the input buffer.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from edgewatch.protocols.ethercat.pdo import ProcessLayout
from edgewatch.protocols.ethercat.sii import SiiImage
from edgewatch.protocols.ethercat.state import ERROR_FLAG, State

__all__ = ["Esc", "Fmmu", "SlaveApp"]

MEMORY = 0x2000
REG_STATION, REG_DL_STATUS, REG_AL_CONTROL, REG_AL_STATUS, REG_AL_CODE = 0x0010, 0x0110, 0x0120, 0x0130, 0x0134
REG_FMMU, REG_SM, REG_EEP_CONTROL, REG_EEP_DATA = 0x0600, 0x0800, 0x0502, 0x0508
EEP_R64 = 0x0040
VALID_STATES = (State.INIT, State.PRE_OP, State.BOOT, State.SAFE_OP, State.OP)
ALLOWED = {
    (State.INIT, State.PRE_OP),
    (State.PRE_OP, State.SAFE_OP),
    (State.SAFE_OP, State.OP),
    (State.INIT, State.BOOT),
    (State.BOOT, State.INIT),
}


@dataclass(frozen=True, slots=True)
class Fmmu:
    """An active FMMU: logical window -> physical address; kind bit 0 = read (inputs), bit 1 = write (outputs)."""

    logical: int
    length: int
    physical: int
    kind: int


class SlaveApp(Protocol):
    """A slave's application: its process layouts and one step per process-data frame."""

    def layouts(self) -> tuple[ProcessLayout, ProcessLayout]:
        """(outputs, inputs) as mapped now (read when the slave enters SAFE_OP)."""

    def step(self, outputs: bytes | None, inputs: bytearray) -> None:
        """Take the outputs (None outside OP), write the inputs image in place."""


class Esc:
    """One slave: memory, AL state machine, SII, mailbox and process data."""

    def __init__(
        self,
        sii: SiiImage,
        app: SlaveApp,
        mailbox: Callable[[bytes, int], bytes | None] | None = None,
        *,
        pd_sms: tuple[int, int] = (2, 3),
    ) -> None:
        self.sii = sii
        self.eeprom = sii.build()
        self.app = app
        self.mailbox = mailbox
        self.pd_sms = pd_sms
        self.present = True
        self.dl_status = 0x0200
        self.mem = bytearray(MEMORY)
        self.state = State.INIT
        self.error = False
        self.code = 0
        self.fmmus: list[Fmmu] | None = None
        self.mbx_full = False
        self.repeat = 0
        self.last_reply: bytes | None = None
        self.layout_out, self.layout_in = app.layouts()
        self.reset()

    # --- state ------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Power-on: registers cleared, INIT, no station address, no SyncManagers or FMMUs."""
        self.mem[:] = bytes(MEMORY)
        struct.pack_into("<BBHBBBB", self.mem, 0, 0x11, 0x01, 0x0001, 8, 8, 8, 0x0F)
        struct.pack_into("<H", self.mem, 0x0012, self.sii.alias)
        self.state, self.error, self.code = State.INIT, False, 0
        self.fmmus, self.mbx_full, self.repeat, self.last_reply = None, False, 0, None
        self._fixed()

    def fault(self, code: int) -> None:
        """Drop to SAFE_OP with the error flag and ``code`` (as a slave does on an SM watchdog)."""
        if self.state == State.OP:
            self.state = State.SAFE_OP
        self.error, self.code = True, code
        self._fixed()

    def _fixed(self) -> None:
        struct.pack_into("<H", self.mem, REG_DL_STATUS, self.dl_status)
        struct.pack_into("<HHH", self.mem, REG_AL_STATUS, self.state | (ERROR_FLAG if self.error else 0), 0, self.code)
        self.mem[0x0805] = 0
        self.mem[0x080D] = 0x08 if self.mbx_full else 0
        self.mem[0x080F] = (self.mem[0x080F] & ~0x02) | (self.repeat << 1)
        struct.pack_into("<H", self.mem, REG_EEP_CONTROL, EEP_R64)

    @property
    def station(self) -> int:
        """Configured station address (0x0010)."""
        return int.from_bytes(self.mem[REG_STATION : REG_STATION + 2], "little")

    def _al_control(self, value: int) -> None:
        req, ack = value & 0x0F, bool(value & State.ACK)
        if ack:
            self.error, self.code = False, 0
        elif self.error and req > self.state:
            return  # an error indication must be acknowledged before going up
        if req not in VALID_STATES:
            self.error, self.code = True, 0x0012
        elif req == self.state:
            pass
        elif req < self.state and req != State.BOOT:
            self.state = req
            if req == State.INIT:
                self.mbx_full, self.last_reply = False, None
        elif (self.state, req) in ALLOWED:
            code = self._check(req)
            if code:
                self.error, self.code = True, code
            else:
                self.state = req
        else:
            self.error, self.code = True, 0x0011
        self._fixed()

    def _check(self, req: int) -> int:
        if req == State.PRE_OP and self.mailbox is not None:
            rx, rxl, tx, txl = self.sii.mailbox
            if self._sm(0)[:2] != (rx, rxl) or self._sm(1)[:2] != (tx, txl):
                return 0x0016
        if req == State.SAFE_OP:
            self.layout_out, self.layout_in = self.app.layouts()
            out_sm, in_sm = self.pd_sms
            if self.layout_out.nbytes and self._sm(out_sm)[1] != self.layout_out.nbytes:
                return 0x001D
            if self.layout_in.nbytes and self._sm(in_sm)[1] != self.layout_in.nbytes:
                return 0x001E
        return 0

    def _sm(self, n: int) -> tuple[int, int, int]:
        start, length, control = struct.unpack_from("<HHB", self.mem, REG_SM + 8 * n)
        return start, length, control

    # --- register access ------------------------------------------------------------------------------------

    def read(self, addr: int, n: int) -> bytes:
        """Read ``n`` bytes (reading the last byte of the send mailbox empties it)."""
        data = bytes(self.mem[addr : addr + n]).ljust(n, b"\0")
        if self.mbx_full:
            start, length, _ = self._sm(1)
            if addr <= start + length - 1 < addr + n:
                self.mbx_full = False
                self.mem[0x080D] = 0
        return data

    def write(self, addr: int, data: bytes | memoryview) -> None:
        """Write bytes and apply what a write to that register does."""
        n = len(data)
        end = min(addr + n, MEMORY)
        if addr >= MEMORY:
            return
        old_repeat = self.mem[0x080E] & 0x02
        self.mem[addr:end] = data[: end - addr]
        if addr < 0x1000:
            if addr <= REG_AL_CONTROL < end:
                self._al_control(int.from_bytes(self.mem[REG_AL_CONTROL : REG_AL_CONTROL + 2], "little"))
            if addr <= REG_EEP_CONTROL < end:
                self._eeprom()
            if addr < REG_FMMU + 0x100 and end > REG_FMMU:
                self.fmmus = None
            if addr <= 0x080E < end and (self.mem[0x080E] & 0x02) != old_repeat:
                self._repeat()
            self._fixed()
            return
        start, length, _ = self._sm(0)
        if self.mailbox is not None and length and addr <= start + length - 1 < end:
            reply = self.mailbox(bytes(self.mem[start : start + length]), self.state)
            if reply is not None:
                self._post(reply)

    def _post(self, reply: bytes) -> None:
        start, length, _ = self._sm(1)
        self.last_reply = reply
        self.mem[start : start + length] = reply[:length].ljust(length, b"\0")
        self.mbx_full = True
        self.mem[0x080D] = 0x08

    def _repeat(self) -> None:
        self.repeat = (self.mem[0x080E] >> 1) & 1
        if self.last_reply is not None:
            self._post(self.last_reply)

    def _eeprom(self) -> None:
        command, word = struct.unpack_from("<HH", self.mem, REG_EEP_CONTROL)
        if command & 0x0700 == 0x0100:
            chunk = self.eeprom[2 * word : 2 * word + 8]
            self.mem[REG_EEP_DATA : REG_EEP_DATA + 8] = chunk.ljust(8, b"\xff")

    # --- process data ---------------------------------------------------------------------------------------

    def _active_fmmus(self) -> list[Fmmu]:
        if self.fmmus is None:
            out = []
            for i in range(8):
                log, length, _sb, _eb, phys, _pb, kind, active = struct.unpack_from(
                    "<IHBBHBBB", self.mem, REG_FMMU + 16 * i
                )
                if active & 1 and length:
                    out.append(Fmmu(log, length, phys, kind))
            self.fmmus = out
        return self.fmmus

    def logical(self, command: int, laddr: int, frame: bytearray, off: int, n: int) -> int:
        """Apply a LRD (10) / LWR (11) / LRW (12) datagram through the FMMUs; the working counter increment."""
        got_read = got_write = False
        for f in self._active_fmmus():
            lo, hi = max(laddr, f.logical), min(laddr + n, f.logical + f.length)
            if lo >= hi:
                continue
            phys, foff, ln = f.physical + lo - f.logical, off + lo - laddr, hi - lo
            if f.kind & 1 and command != 11 and self.state in (State.SAFE_OP, State.OP):
                frame[foff : foff + ln] = self.mem[phys : phys + ln]
                got_read = True
            if f.kind & 2 and command != 10 and self.state == State.OP:
                self.mem[phys : phys + ln] = frame[foff : foff + ln]
                got_write = True
        if command == 12:
            return (1 if got_read else 0) + (2 if got_write else 0)
        return 1 if got_read or got_write else 0

    def step(self) -> None:
        """Run the application once (after a frame with process data)."""
        out_sm, in_sm = self.pd_sms
        o_start, o_len, _ = self._sm(out_sm)
        i_start, i_len, _ = self._sm(in_sm)
        outputs = bytes(self.mem[o_start : o_start + o_len]) if self.state == State.OP and o_len else None
        inputs = bytearray(self.layout_in.nbytes)
        self.app.step(outputs, inputs)
        if i_len and self.state in (State.SAFE_OP, State.OP):
            self.mem[i_start : i_start + min(i_len, len(inputs))] = inputs[:i_len]
