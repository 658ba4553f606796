"""ProcessMaster: the cyclic master in a worker process of its own, so no thread of the service can hold it back.

A Python thread needs the GIL between pysoem calls; in a service whose asyncio loop builds events, a cycle waits
whenever the loop holds it (and under load, while the holder is preempted). The worker process runs an
:class:`EtherCatMaster` (cyclic + supervisor threads) and nothing else; the service side sees the same interface:

- a shared memory block (an mmap of a file in /dev/shm) carries, without any call, the line's counters, each slave's
  AL status, its latest good input image (seqlock: odd sequence = being written) and the outputs the service stages
  (seqlock the other way; the worker applies them at the start of the next cycle and acknowledges the cycle);
- a pipe carries the rest on request: the slaves' layouts (once per configuration), SDO transfers, the jitter
  histogram and the image history.

The worker exits when the pipe closes, so it never outlives the service.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import multiprocessing
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any

from edgewatch.protocols.ethercat.jitter import CycleStats
from edgewatch.protocols.ethercat.mapping import SlaveInfo
from edgewatch.protocols.ethercat.master import EtherCatMaster, Image, MasterSettings, SlaveStatus, explain
from edgewatch.protocols.ethercat.soemadapter import SdoAbortError, SoemError

__all__ = ["MAX_IMAGE", "MAX_SLAVES", "ProcessMaster"]

log = logging.getLogger(__name__)

MAX_SLAVES = 32
MAX_IMAGE = 1024
_HEADER = struct.Struct("<IIQQQii")  # generation, pad, cycle, wkc errors, overruns, last wkc, expected wkc
_ERROR_AT, _ERROR_LEN = 64, 448
_SLOTS_AT = 512
_IN = struct.Struct("<IIQQHHB")  # seq, pad, cycle, time_ns, AL status, AL code, lost
_OUT = struct.Struct("<IIQ")  # seq (service), ack (worker), sent cycle
_SLOT = 64 + MAX_IMAGE + 32 + MAX_IMAGE
SIZE = _SLOTS_AT + MAX_SLAVES * _SLOT


def _slot(position: int) -> int:
    return _SLOTS_AT + (position - 1) * _SLOT


def _in_data(position: int) -> int:
    return _slot(position) + 64


def _out_head(position: int) -> int:
    return _slot(position) + 64 + MAX_IMAGE


def _out_data(position: int) -> int:
    return _out_head(position) + 32


# --- worker side ---------------------------------------------------------------------------------------------


class _Engine(EtherCatMaster):
    """The master in the worker: mirrors its state into the shared block, takes outputs from it."""

    def __init__(self, iface: str, settings: MasterSettings, shm: mmap.mmap) -> None:
        self.shm = shm
        self._generation = 0
        self._applied: dict[int, int] = {}
        self._pending: dict[int, int] = {}
        super().__init__(iface, settings)

    @property  # type: ignore[override]
    def error(self) -> str:
        return str(self.__dict__.get("_error", ""))

    @error.setter
    def error(self, value: str) -> None:
        self.__dict__["_error"] = value
        data = value.encode("utf-8", "replace")[: _ERROR_LEN - 2]
        struct.pack_into(f"<H{_ERROR_LEN - 2}s", self.shm, _ERROR_AT, len(data), data)

    def _configure(self) -> None:
        if len(self._slaves) > MAX_SLAVES:
            raise SoemError(f"more than {MAX_SLAVES} slaves")
        super()._configure()
        for p, info in self._slaves.items():
            if p > MAX_SLAVES or max(info.inputs.nbytes, info.outputs.nbytes) > MAX_IMAGE:
                raise SoemError(f"slave {p}: process image over {MAX_IMAGE} bytes or position over {MAX_SLAVES}")
        self._generation += 1
        struct.pack_into("<I", self.shm, 0, self._generation)

    def _pull_outputs(self) -> None:
        shm = self.shm
        for p, staged in self._staged.items():
            head = _out_head(p)
            (seq,) = struct.unpack_from("<I", shm, head)
            if seq & 1 or seq == self._applied.get(p, 0):
                continue
            data = shm[_out_data(p) : _out_data(p) + len(staged)]
            if struct.unpack_from("<I", shm, head)[0] != seq:
                continue  # being rewritten: take it next cycle
            with self._out_lock:
                staged[:] = data
                self._dirty.add(p)
            self._applied[p] = seq
            self._pending[p] = seq

    def _on_image(self, position: int, image: Image) -> None:
        shm, at = self.shm, _slot(position)
        (seq,) = struct.unpack_from("<I", shm, at)
        struct.pack_into("<I", shm, at, seq + 1)
        shm[_in_data(position) : _in_data(position) + len(image.data)] = image.data
        struct.pack_into("<QQ", shm, at + 8, image.cycle, image.time_ns)
        struct.pack_into("<I", shm, at, seq + 2)

    def _on_cycle(self) -> None:
        s = self._stats
        struct.pack_into("<QQQii", self.shm, 8, self.cycle, s.wkc_errors, s.overruns, s.last_wkc, s.expected_wkc)
        if self._pending:
            for p, seq in self._pending.items():
                struct.pack_into("<IQ", self.shm, _out_head(p) + 4, seq, self.sent_cycle.get(p, self.cycle))
            self._pending.clear()

    def _status_changed(self) -> None:
        for p, st in self._status.items():
            struct.pack_into("<HHB", self.shm, _slot(p) + 24, st.state, st.code, 1 if st.lost else 0)


def _serve(path: str, iface: str, settings: MasterSettings, conn: Connection) -> None:
    """Worker process entry: run the master, answer requests until the pipe closes."""
    with open(path, "r+b") as f:
        shm = mmap.mmap(f.fileno(), SIZE)
    engine = _Engine(iface, settings, shm)
    engine.start()
    handlers: dict[str, Callable[..., Any]] = {
        "slaves": lambda: engine.slaves,
        "stats": lambda: engine.stats,
        "history": engine.history,
        "sdo_read": engine.sdo_read,
        "sdo_write": engine.sdo_write,
    }
    try:
        while True:
            try:
                op, args = conn.recv()
            except (EOFError, OSError):
                return
            if op == "stop":
                return
            try:
                conn.send(("ok", handlers[op](*args)))
            except SdoAbortError as e:
                conn.send(("abort", (e.code, str(e))))
            except (SoemError, KeyError, IndexError, OSError) as e:
                conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        engine.stop()
        shm.close()


# --- service side --------------------------------------------------------------------------------------------


class ProcessMaster:
    """An :class:`EtherCatMaster` run in a worker process, with the same interface for the driver."""

    def __init__(self, iface: str, settings: MasterSettings | None = None) -> None:
        self.iface = iface
        self.settings = settings or MasterSettings()
        self._path = ""
        self._shm: mmap.mmap | None = None
        self._conn: Connection | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._rpc = threading.Lock()
        self._out_lock = threading.Lock()
        self._generation = 0
        self._slaves: dict[int, SlaveInfo] = {}
        self._staged: dict[int, bytearray] = {}
        self._seq: dict[int, int] = {}
        self.restarts = -1  # worker restarts after the first start

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Create the shared block and start the worker (it configures the line in the background)."""
        if self._proc is not None:
            return
        shm_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
        fd, self._path = tempfile.mkstemp(prefix="edgewatch-ecat-", dir=shm_dir)
        with os.fdopen(fd, "r+b") as f:
            f.truncate(SIZE)
            self._shm = mmap.mmap(f.fileno(), SIZE)
        self._spawn()

    def _spawn(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        self._conn = ours
        self._proc = ctx.Process(
            target=_serve, args=(self._path, self.iface, self.settings, theirs), name=f"ecat {self.iface}", daemon=True
        )
        self._proc.start()
        theirs.close()
        self.restarts += 1

    def _revive(self) -> None:
        """Start a new worker when the last one died (the shared block is kept; the line is configured anew)."""
        with self._rpc:
            proc = self._proc
            if proc is None or proc.is_alive() or self._shm is None:
                return
            log.error("EtherCAT worker died, restarting", extra={"iface": self.iface, "exitcode": proc.exitcode})
            if self._conn is not None:
                self._conn.close()
            struct.pack_into("<I", self._shm, 0, 0)
            self._generation = 0
            self._spawn()

    def stop(self) -> None:
        """Stop the worker (it sends the slaves to INIT) and remove the shared block."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(("stop", ()))
            conn.close()
        if proc is not None:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        if self._shm is not None:
            self._shm.close()
            self._shm = None
        with contextlib.suppress(FileNotFoundError):
            if self._path:
                os.unlink(self._path)

    def _call(self, op: str, *args: Any) -> Any:
        conn = self._conn
        if conn is None:
            raise SoemError(f"EtherCAT line {self.iface} is stopped")
        with self._rpc:
            try:
                conn.send((op, args))
                kind, value = conn.recv()
            except (EOFError, OSError) as e:
                raise SoemError(f"EtherCAT worker of {self.iface} is gone: {e!r}") from None
        if kind == "abort":
            raise SdoAbortError(value[0], value[1].split("(", 1)[-1].rstrip(")"))
        if kind == "error":
            raise SoemError(value)
        return value

    # --- the shared block -------------------------------------------------------------------------------------

    def _header(self) -> tuple[int, int, int, int, int, int, int]:
        if self._shm is None:
            return (0, 0, 0, 0, 0, 0, 0)
        return _HEADER.unpack_from(self._shm, 0)  # type: ignore[return-value]

    @property
    def ready(self) -> bool:
        """True once the worker configured the line (a dead worker is restarted here)."""
        proc = self._proc
        if proc is not None and not proc.is_alive():
            self._revive()
            return False
        return self._header()[0] != 0 and proc is not None

    @property
    def error(self) -> str:
        """Why the line is not running (as the worker last said)."""
        if self._proc is None or self._shm is None:
            return "stopped"
        if not self._proc.is_alive():
            return f"EtherCAT worker exited with code {self._proc.exitcode}"
        n, data = struct.unpack_from(f"<H{_ERROR_LEN - 2}s", self._shm, _ERROR_AT)
        return data[:n].decode("utf-8", "replace") or "starting"

    @property
    def cycle(self) -> int:
        """Cycles run."""
        return self._header()[2]

    @property
    def slaves(self) -> dict[int, SlaveInfo]:
        """The configured slaves (fetched once per configuration)."""
        generation = self._header()[0]
        if generation and generation != self._generation:
            slaves: dict[int, SlaveInfo] = self._call("slaves")
            with self._out_lock:
                self._slaves = slaves
                self._staged = {p: bytearray(s.outputs.nbytes) for p, s in slaves.items()}
            self._generation = generation
        return self._slaves

    @property
    def status(self) -> dict[int, SlaveStatus]:
        """Each slave's AL status as the worker last read it."""
        shm = self._shm
        if shm is None:
            return {}
        out = {}
        for p in self._slaves:
            state, code, lost = struct.unpack_from("<HHB", shm, _slot(p) + 24)
            out[p] = SlaveStatus(state, code, bool(lost))
        return out

    @property
    def stats(self) -> CycleStats:
        """The counters (the jitter histogram only through :meth:`fetch_stats`)."""
        _, _, cycle, errors, overruns, last, expected = self._header()
        return CycleStats(cycle, errors, overruns, last, expected)

    def fetch_stats(self) -> CycleStats:
        """Every counter and the jitter histogram, from the worker."""
        stats: CycleStats = self._call("stats")
        return stats

    def image(self, position: int) -> Image | None:
        """The slave's latest good input image (a consistent copy)."""
        shm, info = self._shm, self._slaves.get(position)
        if shm is None or info is None:
            return None
        at, n = _slot(position), info.inputs.nbytes
        for _ in range(1000):
            seq1, _pad, cycle, time_ns = struct.unpack_from("<IIQQ", shm, at)
            if seq1 & 1:
                continue
            data = shm[_in_data(position) : _in_data(position) + n]
            if struct.unpack_from("<I", shm, at)[0] == seq1:
                return Image(data, cycle, time_ns) if seq1 else None
        return None

    def history(self, position: int) -> list[Image]:
        """The slave's last good images (from the worker; diagnostics)."""
        images: list[Image] = self._call("history", position)
        return images

    def health(self, position: int) -> str:
        """Why the slave's process data are not usable now ("" when they are)."""
        return explain(self, position)

    def outputs(self, position: int) -> bytes:
        """The output image staged for the slave."""
        with self._out_lock:
            return bytes(self._staged.get(position, b""))

    def stage(self, position: int, update: Callable[[bytearray], None]) -> None:
        """Change a slave's outputs; the worker's next cycle sends them (see :attr:`sent_cycle`)."""
        shm = self._shm
        if shm is None:
            raise SoemError(f"EtherCAT line {self.iface} is stopped")
        with self._out_lock:
            buf = self._staged[position]
            update(buf)
            head = _out_head(position)
            seq = self._seq.get(position, 0)
            struct.pack_into("<I", shm, head, seq + 1)
            shm[_out_data(position) : _out_data(position) + len(buf)] = bytes(buf)
            self._seq[position] = seq + 2
            struct.pack_into("<I", shm, head, seq + 2)

    @property
    def sent_cycle(self) -> Mapping[int, int]:
        """Per slave, the cycle that sent the outputs staged last (absent until it ran)."""
        shm = self._shm
        out: dict[int, int] = {}
        if shm is None:
            return out
        for p, seq in self._seq.items():
            _s, ack, sent = _OUT.unpack_from(shm, _out_head(p))
            if ack == seq and sent:
                out[p] = sent
        return out

    def position_of_alias(self, alias: int) -> int | None:
        """The position of the slave with this station alias."""
        return next((p for p, s in self.slaves.items() if s.alias == alias), None)

    def sdo_read(self, position: int, index: int, subindex: int, size: int, ca: bool) -> bytes:
        """Upload an object through the worker (blocking).

        Raises:
            SoemError: the line is down, the slave aborted (SdoAbortError) or the mailbox failed.
        """
        data: bytes = self._call("sdo_read", position, index, subindex, size, ca)
        return data

    def sdo_write(self, position: int, index: int, subindex: int, data: bytes, ca: bool) -> None:
        """Download an object through the worker (blocking).

        Raises:
            SoemError: the line is down, the slave aborted (SdoAbortError) or the mailbox failed.
        """
        self._call("sdo_write", position, index, subindex, data, ca)

    def wait_ready(self, timeout: float) -> bool:
        """Block until the line is configured (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        _ = self.slaves
        return True
