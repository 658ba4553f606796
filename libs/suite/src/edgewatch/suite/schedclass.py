"""CPU scheduling classes of the suite's children: the actuation path runs first, work that can wait yields.

Two kinds of child get a class (Linux; elsewhere every child runs as it is):

- ``background`` (core-metadata/core-data, sync, features, inference, the receiver): niceness + ``nice`` and
  ``SCHED_BATCH``. Batch tasks keep their CPU share (the weight is the niceness's) but never preempt a running
  task when they wake up, and each of them wakes up for every event.
- ``actuation`` (nats-server, ingest, rules, core-command): a short EEVDF slice (``sched_attr.sched_runtime``,
  Linux 6.12+). A task woken with a slice shorter than the running task's may preempt it (the scheduler's
  ``PREEMPT_SHORT``) instead of waiting out the running task's slice (1.4 ms here), and its earlier virtual
  deadline puts it ahead of the background tasks in the run queue. The CPU share stays the weight's: a short
  slice buys the time of the first run after a wakeup, not more CPU, so nothing is starved.

Both are set in the child before ``exec`` (every thread it starts inherits them) by unprivileged calls; older
kernels ignore the slice. :func:`sched_attrs` reads a process's class back, so the supervisor can say when one
did not take.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
from dataclasses import dataclass
from typing import Literal

__all__ = ["SchedAttrs", "SchedClass", "apply_in_child", "sched_attrs"]

SchedClass = Literal["", "actuation", "background"]

# sched_setattr / sched_getattr syscall numbers (no libc wrapper in glibc < 2.41, none in Python's os)
_SYSCALLS = {"x86_64": (314, 315), "aarch64": (274, 275), "armv7l": (380, 381)}
_SCHED_NORMAL = 0
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

    @property
    def batch(self) -> bool:
        """Whether the policy is SCHED_BATCH."""
        return self.policy == _SCHED_BATCH


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
    return SchedAttrs(attr.sched_policy, attr.sched_nice, attr.sched_runtime)


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


def apply_in_child(kind: SchedClass, nice: int, slice_ns: int) -> None:
    """In the child before exec: ``background`` adds ``nice`` and selects SCHED_BATCH, ``actuation`` sets the
    slice ``slice_ns`` (0: the kernel's). Best effort: what the kernel refuses is left as it was."""
    if kind == "background":
        if nice:
            with contextlib.suppress(OSError):
                os.nice(nice)
        if hasattr(os, "SCHED_BATCH"):
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    elif kind == "actuation" and slice_ns > 0:
        _set_slice(slice_ns)
