"""Wake-up latency with and without the actuation path's scheduler slice, side by side on the same machine state.

Two processes run at the same time for ``--seconds``: one with the kernel's slice, one with the slice
``edgewatch up`` gives nats-server, ingest, rules and core-command (``schedclass``: ``--slice-us``, 100). Each
sleeps 2 ms, then does about 0.1-0.2 ms of Python work (a message handler), over and over, and records by how
much each wake-up came late. Run on a busy machine (the point of the slice is to run first after a wake-up when
other tasks hold the CPU); both see the same load, so the two distributions compare even when the load moves.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from edgewatch.suite.schedclass import apply_in_child, sched_attrs

SLEEP = 0.002


def child(slice_us: int, seconds: float) -> None:
    if slice_us:
        apply_in_child("actuation", 0, slice_us * 1000)
    late: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        time.sleep(SLEEP)
        late.append(time.perf_counter() - t - SLEEP)
        x = 0
        for i in range(3000):  # the handler's work
            x += i
    a = np.array(late) * 1e3
    attrs = sched_attrs(os.getpid())
    slice_ns = attrs.slice_ns if attrs else 0
    q = [float(np.percentile(a, p)) for p in (50, 90, 99)]
    print(f"{slice_ns} {len(a)} {q[0]:.3f} {q[1]:.3f} {q[2]:.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--slice-us", type=int, default=100)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.seconds)
        return
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    procs = {
        name: subprocess.Popen(
            [sys.executable, __file__, "--child", str(us), "--seconds", str(args.seconds)], stdout=subprocess.PIPE
        )
        for name, us in (("kernel slice", 0), (f"{args.slice_us} us slice", args.slice_us))
    }
    for name, p in procs.items():
        out, _ = p.communicate()
        slice_ns, n, p50, p90, p99 = out.decode().split()
        print(f"{name} ({int(slice_ns) / 1e3:g} us): {n} wake-ups, late by p50 {p50} ms, p90 {p90}, p99 {p99}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
