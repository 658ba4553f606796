"""python -m edgewatch.sim.ethercat --iface IFACE [--control SOCKET]: serve the emulated line until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from edgewatch.sim.ethercat import EmulatorServer, default_chain


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, open the raw socket, print ``ready``, serve."""
    ap = argparse.ArgumentParser(prog="python -m edgewatch.sim.ethercat", description=__doc__)
    ap.add_argument("--iface", required=True, help="network interface to answer on (the slave end of a veth pair)")
    ap.add_argument("--control", default=None, help="UNIX socket path for drop/restore/fault commands")
    args = ap.parse_args(argv)
    server = EmulatorServer(args.iface, default_chain(), args.control)
    server.open()
    done = threading.Event()

    def _stop(*_: object) -> None:
        server.stop()
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"ready {args.iface}", flush=True)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
