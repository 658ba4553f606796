"""CPU scheduling classes of the suite's children: the actuation path runs first, work that can wait yields.

Two kinds of child get a class (Linux; elsewhere every child runs as it is):

- ``background`` (core: core-metadata, core-data and core-command; sync, features, inference, the receiver, the
  console): niceness + ``nice`` and ``SCHED_BATCH``. Batch tasks keep their CPU share (the weight is the
  niceness's) but never preempt a running task when they wake up, and each of them wakes up for every event.
- ``actuation`` (nats-server, ingest, rules): ``SCHED_FIFO`` where permitted (below), else a short EEVDF slice
  (``sched_attr.sched_runtime``, Linux 6.12+). A task woken with a slice shorter than the running task's may
  preempt it (the scheduler's ``PREEMPT_SHORT``) instead of waiting out the running task's slice (1.4 ms here), and
  its earlier virtual deadline puts it ahead of the background tasks in the run queue. The CPU share stays the
  weight's: a short slice buys the time of the first run after a wakeup, not more CPU, so nothing is starved.

Where the suite may (root, ``CAP_SYS_NICE``, or an ``RLIMIT_RTPRIO`` of the priority), the actuation class runs
``SCHED_FIFO`` instead of the slice: nats-server at ``SuiteConfig.actuation_rt_priority`` (10), ingest and rules one
above it. A woken real-time task runs before every normal task at once, so the two bus transits and the Python wake-
up between an event and its SET no longer wait for the analytics or the background work (on the 2-CPU test VM, back-
to-back full ``bench/e2e.py`` runs: reading -> command p50 2.90 -> 2.02 ms, overload p99 12.43 -> 7.20 ms). The
clients sit above the bus because FIFO tasks of one priority do not preempt each other: a woken rules would
otherwise wait for a busy nats-server thread on its CPU to block. Real-time, ingest and rules keep to the CPUs the
background class is not confined to (:func:`actuation_cpus`; ``rt_cpus`` of the supervisor's specs): anywhere, a
burst's 20,000 events kept rules (50-60 % of a core then) preempting the analytics, and the pipeline's throughput
fell to 8,000-11,000 events/s (``pipeline_vs_raw_nats`` 0.274 and 0.317 in two runs); kept to the lower CPUs, 0.478
(bursts 0.452-0.614) at p50 2.06 ms. nats-server, the bus of every class, may use every CPU: kept to rules' CPU the
two queued behind each other (p50 2.84 ms). The priorities stay low (below the kernel's threaded interrupts at 50;
an EtherCAT cyclic thread given a priority of its own should get one above 11, else it inherits ingest's). The
price: a real-time task that never blocks starves the normal tasks of its CPU, up to the kernel's real-time
throttling (``kernel.sched_rt_runtime_us``: 95 % of each second by default); the actuation path's work is bounded by
the message rate, but nats-server's includes the JetStream stores of every event, which run ahead of the analytics
during a burst. Where the call is refused the child keeps the slice (on every CPU) and the supervisor logs it.

Both are set in the child before ``exec`` (every thread it starts inherits them); the slice, the batch class and the
niceness by unprivileged calls. Older kernels ignore the slice. :func:`sched_attrs` reads a process's class back, so
the supervisor can say when one did not take.

Autogroups (:func:`renice_own_autogroup`): with ``kernel.sched_autogroup_enabled`` (the default of most desktop and
many server kernels, and of this project's test VM) every session is a scheduling group of its own, and the CPU is
shared between groups first, by each group's niceness; a process's own niceness only counts inside its group. The
supervisor starts each child in a session of its own, so each child is one group, and a child's niceness alone
changed nothing: under a burst the background services took as much CPU as the analytics and the actuation path
(found with ``/proc/<pid>/autogroup``: every child "nice 0"). Each child of the supervisor therefore sets its
group's niceness to its own (the supervisor's plus its spec's) before ``exec``.

CPU sets (:func:`background_cpus`): on a gateway with two CPUs or more the background class is also confined to
the upper half of the CPUs the suite may use, while the actuation path may run on all of them. A class and a
slice decide who runs first on a CPU that is already busy; they cannot stop the background services from keeping
*every* CPU busy when a burst of events wakes all of them at once, and then the actuation path's next wake-up
waits behind them. With the lower CPUs kept free of background work, a woken actuation process finds an idle or
actuation-only CPU (on this project's 2-CPU test VM: reading -> command p50 3.9 -> 2.9 ms, p99 11.4 -> 7.3 ms,
overload p99 9.4 -> 5.3 ms in back-to-back quick runs of bench/e2e.py, throughput unchanged within noise). Work
that can wait then has fewer CPUs and falls behind first under overload, which is what it may do (core-data and
sync catch up from their queues; nothing is dropped that was not already allowed to be).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "SchedAttrs",
    "SchedClass",
    "actuation_cpus",
    "apply_in_child",
    "autogroup_nice",
    "background_cpus",
    "parse_cpus",
    "renice_own_autogroup",
    "sched_attrs",
]

SchedClass = Literal["", "actuation", "background"]

# sched_setattr / sched_getattr syscall numbers (no libc wrapper in glibc < 2.41, none in Python's os)
_SYSCALLS = {"x86_64": (314, 315), "aarch64": (274, 275), "armv7l": (380, 381)}
_SCHED_NORMAL = 0
_SCHED_FIFO = 1
_SCHED_BATCH = 3


class _SchedAttr(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("sched_policy", ctypes.c_uint32),
        ("sched_flags", ctypes.c_uint64),
        ("sched_nice", ctypes.c_int32),
        ("sched_priority", ctypes.c_uint32),
        ("sched_runtime", ctypes.c_uint64),
        ("sched_deadline", ctypes.c_uint64),
        ("sched_period", ctypes.c_uint64),
        ("sched_util_min", ctypes.c_uint32),
        ("sched_util_max", ctypes.c_uint32),
    ]


@dataclass(frozen=True)
class SchedAttrs:
    """A process's scheduling class as the kernel reports it."""

    policy: int
    nice: int
    slice_ns: int  # the EEVDF slice (a custom one, or the kernel's base slice); 0 where the kernel has none
    rt_priority: int = 0  # the real-time priority (SCHED_FIFO); 0 for the other policies

    @property
    def batch(self) -> bool:
        """Whether the policy is SCHED_BATCH."""
        return self.policy == _SCHED_BATCH

    @property
    def fifo(self) -> bool:
        """Whether the policy is SCHED_FIFO."""
        return self.policy == _SCHED_FIFO


def _syscall(index: int) -> tuple[ctypes.CDLL, int] | None:
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None or not hasattr(os, "sched_setscheduler"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True), numbers[index]
    except OSError:
        return None


def sched_attrs(pid: int) -> SchedAttrs | None:
    """The scheduling class of ``pid`` (its main thread); None where the kernel or platform cannot say."""
    call = _syscall(1)
    if call is None:
        return None
    libc, nr = call
    attr = _SchedAttr()
    if libc.syscall(nr, pid, ctypes.byref(attr), ctypes.sizeof(_SchedAttr), 0) != 0:
        return None
    return SchedAttrs(attr.sched_policy, attr.sched_nice, attr.sched_runtime, attr.sched_priority)


def _set_slice(slice_ns: int) -> None:
    call = _syscall(0)
    if call is None:
        return
    libc, nr = call
    attr = _SchedAttr(
        size=ctypes.sizeof(_SchedAttr),
        sched_policy=_SCHED_NORMAL,
        sched_nice=os.getpriority(os.PRIO_PROCESS, 0),
        sched_runtime=slice_ns,
    )
    libc.syscall(nr, 0, ctypes.byref(attr), 0)  # refused (EINVAL, EPERM): the child runs with the base slice


def parse_cpus(text: str) -> frozenset[int]:
    """A CPU list as the kernel writes them (``"1"``, ``"2,3"``, ``"2-5,7"``).

    Raises:
        ValueError: naming the part that is not a CPU number or range.
    """
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"{part!r} is not a CPU number or range (e.g. 1 or 2-3)")
        first, last = int(lo), int(hi) if sep else int(lo)
        if last < first:
            raise ValueError(f"{part!r}: the range ends before it starts")
        out.update(range(first, last + 1))
    return frozenset(out)


def background_cpus(setting: str, available: frozenset[int] | None = None) -> frozenset[int] | None:
    """The CPUs the background class is confined to (None: not confined).

    ``setting``: ``auto`` (the upper half of ``available``, i.e. of the CPUs this process may use, when there are
    two or more; none with one), ``all`` (not confined) or a CPU list (:func:`parse_cpus`), which must leave at
    least one CPU of ``available`` to the actuation path alone and name only available CPUs.

    Raises:
        ValueError: a list that is malformed, names CPUs this process cannot use, or leaves no CPU free.
    """
    if available is None:
        available = _available_cpus()
    if setting == "all" or len(available) < 2:
        return None
    if setting == "auto":
        ordered = sorted(available)
        return frozenset(ordered[len(ordered) // 2 :])
    cpus = parse_cpus(setting)
    if not cpus <= available:
        raise ValueError(
            f"CPUs {sorted(cpus - available)} are not available (this process may use {sorted(available)})"
        )
    if cpus == available:
        raise ValueError("the background CPUs must leave at least one CPU to the actuation path alone")
    return cpus


def _available_cpus() -> frozenset[int]:
    """The CPUs this process may use (none where the platform cannot say)."""
    return frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()


def actuation_cpus(background: frozenset[int] | None, available: frozenset[int] | None = None) -> frozenset[int] | None:
    """The CPUs a real-time actuation path is kept to: those of ``available`` (this process's CPUs) that the
    background class is not confined to; None where the background is not confined (or would leave none)."""
    if background is None:
        return None
    if available is None:
        available = _available_cpus()
    return (available - background) or None


def autogroup_nice(pid: int) -> int | None:
    """The niceness of ``pid``'s autogroup (None: no autogroups, or the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()  # "/autogroup-123 nice 5"
    except OSError:
        return None
    parts = text.split()
    return int(parts[-1]) if len(parts) >= 3 and parts[-2] == "nice" else None


def renice_own_autogroup() -> None:
    """Give this process's autogroup the process's niceness, when the process leads its own session (so the group is
    its alone); best effort: without autogroups (or the right to renice) nothing changes."""
    if not hasattr(os, "getsid") or os.getsid(0) != os.getpid():
        return  # a group shared with other processes (the supervisor's session) keeps its niceness
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(os.getpriority(os.PRIO_PROCESS, 0)))


def apply_in_child(
    kind: SchedClass,
    nice: int,
    slice_ns: int,
    cpus: frozenset[int] | None = None,
    rt_priority: int = 0,
    rt_cpus: frozenset[int] | None = None,
) -> None:
    """In the child before exec: ``background`` adds ``nice`` and selects SCHED_BATCH, ``actuation`` selects
    SCHED_FIFO at ``rt_priority`` (0: not) where the process may, and then confines it to ``rt_cpus`` (None: not
    confined), else sets the slice ``slice_ns`` (0: the kernel's); ``cpus`` (any class) confines the child to those
    CPUs. Best effort: what the kernel refuses is left as it was."""
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)
    if kind == "background":
        if nice:
            with contextlib.suppress(OSError):
                os.nice(nice)
        if hasattr(os, "SCHED_BATCH"):
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    elif kind == "actuation":
        if rt_priority > 0 and _set_fifo(rt_priority):
            if rt_cpus and hasattr(os, "sched_setaffinity"):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(0, rt_cpus)
            return
        if slice_ns > 0:
            _set_slice(slice_ns)


def _set_fifo(priority: int) -> bool:
    """SCHED_FIFO at ``priority`` for this thread (and the threads and processes it starts); False where refused
    (no CAP_SYS_NICE and an RLIMIT_RTPRIO below ``priority``: EPERM; a priority out of range: EINVAL)."""
    if not hasattr(os, "SCHED_FIFO"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError:
        return False
    return True
