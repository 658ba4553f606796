"""The emulator process: a raw socket on one interface answering EtherCAT frames, and a control socket.

Control (a UNIX stream socket, one line per command, answered with ``ok ...`` or ``error ...``): ``drop N``,
``restore N``, ``fault N CODE`` (hex or decimal), ``state`` (each slave's position, AL status and presence),
``frames``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from pathlib import Path

from edgewatch.protocols.ethercat.state import state_name
from edgewatch.sim.ethercat.chain import ETHERTYPE, Chain

__all__ = ["EmulatorServer"]

log = logging.getLogger(__name__)
PACKET_OUTGOING = 4


class EmulatorServer:
    """Answers frames on ``iface`` with ``chain`` until :meth:`stop`."""

    def __init__(self, iface: str, chain: Chain, control: str | None = None) -> None:
        self.iface = iface
        self.chain = chain
        self.control = control
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._ctl: socket.socket | None = None

    def open(self) -> None:
        """Bind the raw socket (and the control socket)."""
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((self.iface, ETHERTYPE))
        sock.settimeout(0.2)
        self._sock = sock
        if self.control:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.control)
            ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            ctl.bind(self.control)
            ctl.listen(4)
            ctl.settimeout(0.2)
            self._ctl = ctl
            threading.Thread(target=self._control_loop, name="ecat-sim control", daemon=True).start()

    def serve(self) -> None:
        """Answer frames until stopped."""
        sock = self._sock
        assert sock is not None
        buf = bytearray(1600)
        view = memoryview(buf)
        while not self._stop.is_set():
            try:
                n, addr = sock.recvfrom_into(buf)
            except TimeoutError:
                continue
            except OSError as e:
                if self._stop.is_set():
                    return
                log.warning("receive failed: %s", e)
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            if self.chain.process(buf, n):
                try:
                    sock.send(view[:n])
                except OSError as e:
                    log.warning("send failed: %s", e)

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        self._stop.set()
        for s in (self._sock, self._ctl):
            if s is not None:
                s.close()
        if self.control:
            with contextlib.suppress(FileNotFoundError):
                Path(self.control).unlink()

    def command(self, line: str) -> str:
        """Run one control command."""
        words = line.split()
        try:
            match words:
                case ["drop", n]:
                    self.chain.drop(int(n))
                case ["restore", n]:
                    self.chain.restore(int(n))
                case ["fault", n, code]:
                    self.chain.fault(int(n), int(code, 0))
                case ["state"]:
                    rows = [
                        f"{i}:{state_name(s.state | (0x10 if s.error else 0))}:{'present' if s.present else 'dropped'}"
                        for i, s in enumerate(self.chain.slaves, 1)
                    ]
                    return "ok " + " ".join(rows)
                case ["frames"]:
                    return f"ok {self.chain.frames}"
                case _:
                    return f"error unknown command {line.strip()!r}"
        except (ValueError, IndexError) as e:
            return f"error {e}"
        return "ok"

    def _control_loop(self) -> None:
        ctl = self._ctl
        assert ctl is not None
        while not self._stop.is_set():
            try:
                conn, _ = ctl.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, conn.makefile("rw") as f:
                for line in f:
                    f.write(self.command(line) + "\n")
                    f.flush()
