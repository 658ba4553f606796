"""What the benches print about the suite they started: the scheduling class each actuation process got, and the
service logs of a suite that did not start."""

from __future__ import annotations

import os
from pathlib import Path

from edgewatch.suite.schedclass import sched_attrs
from edgewatch.suite.supervisor import Supervisor

__all__ = ["print_log_tails", "sched_taken"]


def sched_taken(sup: Supervisor) -> str:
    """The scheduling policy each actuation child runs with, read back from the kernel."""
    out = []
    for c in sup.children:
        if c.spec.sched != "actuation" or c.proc is None:
            continue
        got = sched_attrs(c.proc.pid)
        if got is not None:
            how = f"SCHED_FIFO {got.rt_priority}" if got.fifo else f"slice {got.slice_ns} ns"
            out.append(f"{c.spec.name} {how} on CPUs {sorted(os.sched_getaffinity(c.proc.pid))}")
    return "actuation path: " + (", ".join(out) or "not read")


def print_log_tails(logs: Path, lines: int = 30) -> None:
    """The last ``lines`` lines of every service log, for a suite that did not start."""
    for log in sorted(logs.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log.name} (last {len(tail)} lines)")
        for line in tail:
            print(line[:500])
