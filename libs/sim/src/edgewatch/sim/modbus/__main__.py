"""``python -m edgewatch.sim.modbus``: serve one profile until interrupted (optionally with the demo pump signals)."""

from __future__ import annotations

import argparse
import logging

from edgewatch.sim.modbus.demo import PumpDynamics
from edgewatch.sim.modbus.server import Dynamics, start_modbus_sim
from edgewatch.sim.serving import serve_until_interrupted

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """CLI: serve one profile until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m edgewatch.sim.modbus")
    parser.add_argument("--profile", required=True, help="EdgeX device profile (YAML)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument("--unit-id", type=int, default=1)
    parser.add_argument("--units", type=int, default=0, help="serve unit IDs 1..N (overrides --unit-id)")
    parser.add_argument("--demo-pump", action="store_true", help="drive the demo pump signals (PumpStop coil)")
    parser.add_argument("--rise", type=float, default=0.05, help="demo pump: vibration rise in mm/s per second")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)

    dyn: Dynamics | None = PumpDynamics(rise=args.rise) if args.demo_pump else None
    units = range(1, args.units + 1) if args.units > 0 else None
    serve_until_interrupted(
        lambda: start_modbus_sim(args.profile, args.host, args.port, args.unit_id, unit_ids=units, dynamics=dyn),
        lambda sim: log.info("modbus simulator for %s listening on %s:%d", sim.profile.name, args.host, sim.port),
    )


if __name__ == "__main__":
    main()
