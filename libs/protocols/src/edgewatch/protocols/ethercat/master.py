"""EtherCatMaster: one SOEM line run by two threads, never by an asyncio loop.

- The cyclic thread exchanges process data every cycle (send, receive, working counter check), applies outputs
  staged since the last cycle, keeps each slave's latest good input image (with its cycle number and time), and
  counts cycles, working-counter errors, overruns and period jitter.
- The supervisor thread opens and configures the line (retrying while it cannot), reads every slave's PDO layout,
  then every ``supervise_interval`` (at once after a working-counter error) reads the AL states and acts as SOEM's
  own check loop does: SAFE_OP+ERROR is acknowledged, SAFE_OP is asked back to OP, a slave in INIT / PRE_OP is
  reconfigured and a lost one recovered.

A slave's image counts as good only when the frame's working counter equals what the slaves in OP (and the
inputs of those in SAFE_OP) should give; :meth:`health` explains why a slave's data are not usable now, so nothing
stale is ever handed out as fresh.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from edgewatch.protocols.ethercat.jitter import CycleStats, realtime, tight_timer_slack
from edgewatch.protocols.ethercat.mapping import SlaveInfo, read_slave
from edgewatch.protocols.ethercat.soemadapter import SoemError, SoemLine
from edgewatch.protocols.ethercat.state import ERROR_FLAG, State, describe_code, state_name

__all__ = ["EtherCatMaster", "Image", "MasterSettings", "MasterView", "SlaveStatus", "explain"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Image:
    """A slave's input image from one good cycle."""

    data: bytes
    cycle: int
    time_ns: int


@dataclass(frozen=True, slots=True)
class SlaveStatus:
    """AL status (state | error flag) and AL status code as last read; ``lost``: the slave does not answer."""

    state: int = State.NONE
    code: int = 0
    lost: bool = False

    def describe(self) -> str:
        """``SAFE_OP+ERROR, AL status code 0x001B (Sync manager watchdog)``."""
        what = "lost (no answer)" if self.lost or self.state == State.NONE else state_name(self.state)
        return f"{what}, AL status code {describe_code(self.code)}"


@dataclass(frozen=True, slots=True)
class MasterSettings:
    """Tunables of one line."""

    cycle_us: int = 1000
    receive_timeout_us: int = 0  # 0: the cycle time
    stale_cycles: int = 3
    supervise_interval: float = 0.5  # a healthy line's background check; a working-counter error checks at once
    retry_interval: float = 1.0
    state_timeout_us: int = 5000
    history: int = 64
    priority: int = 0  # SCHED_FIFO priority of the cyclic thread (needs CAP_SYS_NICE); 0 = normal scheduling
    switch_interval: bool = True  # lower the interpreter's GIL switch interval to a quarter cycle (see _cyclic)
    worker_process: bool = True  # run the master in a worker process (remote.ProcessMaster), not in this one


class MasterView(Protocol):
    """What :func:`explain` reads: a master in this process or one in a worker process."""

    iface: str
    settings: MasterSettings

    @property
    def error(self) -> str: ...

    @property
    def cycle(self) -> int: ...

    @property
    def ready(self) -> bool: ...

    @property
    def slaves(self) -> Mapping[int, SlaveInfo]: ...

    @property
    def status(self) -> Mapping[int, SlaveStatus]: ...

    @property
    def stats(self) -> CycleStats: ...

    def image(self, position: int) -> Image | None: ...


def explain(m: MasterView, position: int) -> str:
    """Why a slave's process data are not usable now ("" when they are): line down, no such slave, not in OP,
    or no frame with the right working counter for more than ``stale_cycles`` cycles."""
    if not m.ready:
        return f"EtherCAT line {m.iface} is not running: {m.error}"
    slaves = m.slaves
    if position not in slaves:
        return f"no slave at position {position} on {m.iface} ({len(slaves)} found)"
    st = m.status.get(position, SlaveStatus())
    if st.state != State.OP:
        return f"slave {position} ({slaves[position].name}) is {st.describe()}"
    img = m.image(position)
    cycle = m.cycle
    age = cycle - img.cycle if img is not None else cycle
    if img is None or age > m.settings.stale_cycles:
        s = m.stats
        return (
            f"slave {position} ({slaves[position].name}): no good process data for {age} cycles "
            f"(working counter {s.last_wkc}, expected {s.expected_wkc})"
        )
    return ""


class EtherCatMaster:
    """The cyclic master of one network interface (start/stop from any thread)."""

    def __init__(
        self, iface: str, settings: MasterSettings | None = None, line_factory: Callable[[str], SoemLine] = SoemLine
    ) -> None:
        self.iface = iface
        self.settings = settings or MasterSettings()
        self._line_factory = line_factory
        self.line: SoemLine | None = None
        self._slaves: dict[int, SlaveInfo] = {}
        self._status: dict[int, SlaveStatus] = {}
        self._stats = CycleStats()
        self.error = "not started"
        self.configured = threading.Event()
        self.cycle = 0
        self._images: dict[int, Image] = {}
        self._history: dict[int, deque[Image]] = {}
        self._staged: dict[int, bytearray] = {}
        self._dirty: set[int] = set()
        self.sent_cycle: dict[int, int] = {}
        self._out_lock = threading.Lock()
        self.mailbox_lock = threading.Lock()
        self._expected = 0
        self._good: tuple[int, ...] = ()
        self._check_now = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervisor (it opens the line and starts the cyclic thread)."""
        if self._threads:
            return
        self._stopping.clear()
        t = threading.Thread(target=self._supervise, name=f"ecat supervisor {self.iface}", daemon=True)
        self._threads.append(t)
        t.start()

    def stop(self) -> None:
        """Stop both threads, send the slaves to INIT and close the socket."""
        self._stopping.set()
        self._check_now.set()
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()
        line, self.line = self.line, None
        if line is not None:
            try:
                line.request_all(State.INIT)
            finally:
                line.close()
        self.configured.clear()
        self.error = "stopped"

    # --- what devices use -----------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the line is configured (and until it stops)."""
        return self.configured.is_set()

    @property
    def slaves(self) -> dict[int, SlaveInfo]:
        """The configured slaves by position."""
        return self._slaves

    @property
    def status(self) -> dict[int, SlaveStatus]:
        """Each slave's AL status as last read."""
        return self._status

    @property
    def stats(self) -> CycleStats:
        """The cyclic thread's counters."""
        return self._stats

    def sdo_read(self, position: int, index: int, subindex: int, size: int, ca: bool) -> bytes:
        """Upload an object (blocking; one mailbox transfer at a time).

        Raises:
            SoemError: the line is down, the slave aborted (SdoAbortError) or the mailbox failed.
        """
        line = self.line
        if line is None or not self.ready:
            raise SoemError(explain(self, position))
        with self.mailbox_lock:
            return line.sdo_read(position, index, subindex, size, ca)

    def sdo_write(self, position: int, index: int, subindex: int, data: bytes, ca: bool) -> None:
        """Download an object (blocking; one mailbox transfer at a time).

        Raises:
            SoemError: the line is down, the slave aborted (SdoAbortError) or the mailbox failed.
        """
        line = self.line
        if line is None or not self.ready:
            raise SoemError(explain(self, position))
        with self.mailbox_lock:
            line.sdo_write(position, index, subindex, data, ca)

    def image(self, position: int) -> Image | None:
        """The latest good input image of a slave."""
        return self._images.get(position)

    def history(self, position: int) -> list[Image]:
        """The slave's last good images, oldest first (up to ``MasterSettings.history`` cycles; diagnostics)."""
        return list(self._history.get(position, ()))

    def health(self, position: int) -> str:
        """Why the slave's process data are not usable now ("" when they are)."""
        return explain(self, position)

    def outputs(self, position: int) -> bytes:
        """The output image staged for the slave."""
        with self._out_lock:
            return bytes(self._staged.get(position, b""))

    def stage(self, position: int, update: Callable[[bytearray], None]) -> None:
        """Change a slave's outputs (``update`` edits the image in place); the next cycle sends them and records
        its number in ``sent_cycle[position]``."""
        with self._out_lock:
            update(self._staged[position])
            self._dirty.add(position)
            self.sent_cycle.pop(position, None)

    def position_of_alias(self, alias: int) -> int | None:
        """The position of the slave with this station alias."""
        return next((p for p, s in self._slaves.items() if s.alias == alias), None)

    # --- supervisor thread -----------------------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            if not self.configured.is_set():
                try:
                    self._configure()
                except (SoemError, OSError, IndexError) as e:
                    self.error = str(e)
                    log.warning("EtherCAT line not configured", extra={"iface": self.iface, "error": self.error})
                    self._stopping.wait(self.settings.retry_interval)
                continue
            self._check_now.wait(self.settings.supervise_interval)
            self._check_now.clear()
            if self._stopping.is_set():
                return
            try:
                self._check()
            except (SoemError, OSError) as e:
                log.warning("EtherCAT state check failed", extra={"iface": self.iface, "error": str(e)})

    def _configure(self) -> None:
        if self.line is None:
            line = self._line_factory(self.iface)
            line.open()
            self.line = line
        line = self.line
        count = line.configure()
        slaves = {p: read_slave(line, p) for p in range(1, count + 1)}
        for p, info in slaves.items():
            out_b, in_b = line.sizes(p)
            if (info.outputs.nbytes, info.inputs.nbytes) != (out_b, in_b):
                raise SoemError(
                    f"slave {p} ({info.name}): the {info.source} layout gives {info.outputs.nbytes}/"
                    f"{info.inputs.nbytes} output/input bytes, SOEM mapped {out_b}/{in_b}"
                )
        self._slaves = slaves
        with self._out_lock:
            self._staged = {p: bytearray(line.sizes(p)[0]) for p in slaves}
            self._dirty = set(slaves)
        self._status = {p: SlaveStatus(State.SAFE_OP) for p in slaves}
        self._history = {p: deque(maxlen=self.settings.history) for p in slaves}
        self._recount()
        self._status_changed()
        self.configured.set()
        self.error = ""
        t = threading.Thread(target=self._cyclic, name=f"ecat cycle {self.iface}", daemon=True)
        self._threads.append(t)
        t.start()
        line.request_all(State.OP)
        log.info("EtherCAT line configured", extra={"iface": self.iface, "slaves": count})

    def _check(self) -> None:
        line = self.line
        assert line is not None
        line.read_state()
        states = {p: line.state(p) for p in self._slaves}
        if any(st == State.NONE for st, _ in states.values()):
            # A state read that timed out reads as NONE: ask again before calling a slave lost.
            line.read_state()
            states = {p: line.state(p) for p in self._slaves}
        timeout = self.settings.state_timeout_us
        for p, (state, code) in states.items():
            base = state & 0x0F
            lost = False
            if state == State.SAFE_OP | ERROR_FLAG:
                line.request(p, State.SAFE_OP | State.ACK)
            elif state == State.SAFE_OP:
                line.request(p, State.OP)
            elif base == State.NONE:
                # Lost. recover() gives a slave found again at its position its station address back; the next
                # round reads its real state (INIT after a power cycle -> reconfigured below).
                lost = True
                line.recover(p, timeout)
            elif base != State.OP or state & ERROR_FLAG:
                line.reconfig(p, timeout)
            self._status[p] = SlaveStatus(state, code, lost)
        self._recount()
        self._status_changed()

    def _recount(self) -> None:
        assert self.line is not None
        expected, good = 0, []
        for p, st in self._status.items():
            out_b, in_b = self.line.sizes(p)
            if st.state == State.OP:
                expected += (2 if out_b else 0) + (1 if in_b else 0)
                good.append(p)
            elif st.state == State.SAFE_OP:
                expected += 1 if in_b else 0
        self._expected, self._good = expected, tuple(good)

    # --- hooks for a master that mirrors its state into another process (edgewatch.protocols.ethercat.remote) ---

    def _pull_outputs(self) -> None:
        """Called at the start of each cycle, before staged outputs are applied."""

    def _on_image(self, position: int, image: Image) -> None:
        """Called with each good input image."""

    def _on_cycle(self) -> None:
        """Called after each cycle's counters are updated."""

    def _status_changed(self) -> None:
        """Called after the supervisor updated the slaves' states."""

    # --- cyclic thread --------------------------------------------------------------------------------------

    def _cyclic(self) -> None:
        # The cyclic thread needs the GIL between pysoem calls (which release it). Python hands the GIL to a
        # waiting thread only after the switch interval (5 ms by default), so a busy asyncio loop could hold a
        # 1 ms cycle back by several cycles; a quarter cycle bounds that wait.
        if self.settings.switch_interval and sys.getswitchinterval() > self.settings.cycle_us / 4e6:
            sys.setswitchinterval(self.settings.cycle_us / 4e6)
        tight_timer_slack()
        refused = realtime(self.settings.priority)
        if refused:
            log.warning("cyclic thread keeps normal scheduling", extra={"iface": self.iface, "error": refused})
        line = self.line
        assert line is not None
        s = self.settings
        period = s.cycle_us * 1000
        timeout = s.receive_timeout_us or s.cycle_us
        stats = self._stats
        jitter = stats.jitter
        images, history = self._images, self._history
        deadline = time.monotonic_ns()
        previous = 0
        while not self._stopping.is_set():
            start = time.monotonic_ns()
            if previous:
                jitter.add(abs(start - previous - period))
            previous = start
            cycle = self.cycle + 1
            self._pull_outputs()
            if self._dirty:
                with self._out_lock:
                    for p in self._dirty:
                        line.set_output(p, bytes(self._staged[p]))
                        self.sent_cycle[p] = cycle
                    self._dirty.clear()
            wkc = line.exchange(timeout)
            expected = self._expected
            stats.last_wkc, stats.expected_wkc = wkc, expected
            if wkc == expected and expected > 0:
                now = time.time_ns()
                for p in self._good:
                    images[p] = img = Image(line.input(p), cycle, now)
                    history[p].append(img)
                    self._on_image(p, img)
            else:
                stats.wkc_errors += 1
                self._check_now.set()
            self.cycle = cycle
            stats.cycles = cycle
            self._on_cycle()
            deadline += period
            now_mono = time.monotonic_ns()
            if now_mono >= deadline:
                stats.overruns += 1
                deadline = now_mono
                continue
            time.sleep((deadline - now_mono) / 1e9)
