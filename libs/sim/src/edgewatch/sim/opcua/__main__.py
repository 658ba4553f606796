"""``python -m edgewatch.sim.opcua``: serve the plant (and/or profiles, bulk variables) until interrupted."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from edgewatch.common.contracts.yamlcompat import load_profile_yaml
from edgewatch.sim.opcua.launch import start_opcua_sim
from edgewatch.sim.opcua.model import Dynamics
from edgewatch.sim.opcua.plant import BulkDynamics, PlantDynamics
from edgewatch.sim.serving import serve_until_interrupted

__all__ = ["main"]

log = logging.getLogger(__name__)


def _users(pairs: list[str]) -> dict[str, str]:
    users = {}
    for pair in pairs:
        name, sep, secret_file = pair.partition("=")
        if not sep:
            raise SystemExit(f"--user {pair!r}: expected NAME=PASSWORD_FILE")
        users[name] = Path(secret_file).read_text(encoding="utf-8").strip()
    return users


def main(argv: list[str] | None = None) -> None:
    """CLI: serve until interrupted."""
    ap = argparse.ArgumentParser(prog="python -m edgewatch.sim.opcua", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4841)
    ap.add_argument("--no-plant", action="store_true", help="leave the mixer plant and Simulation nodes out")
    ap.add_argument("--profile", action="append", default=[], help="EdgeX profile: one variable per nodeId resource")
    ap.add_argument("--bulk", type=int, default=0, help="N Double variables ns=2;s=Bulk.R<i> for load tests")
    ap.add_argument("--bulk-interval", type=float, default=1.0, help="seconds between bulk value changes")
    ap.add_argument("--period", type=float, default=0.2, help="seconds between plant dynamics steps")
    ap.add_argument("--secure", action="store_true", help="serve Basic256Sha256 / Aes128 / Aes256 endpoints")
    ap.add_argument("--insecure-too", action="store_true", help="keep the None endpoint beside the secure ones")
    ap.add_argument("--pki", default="", help="folder for the server certificate (own/cert.der, own/key.pem)")
    ap.add_argument("--user", action="append", default=[], help="NAME=PASSWORD_FILE: a UserName identity")
    ap.add_argument("--no-anonymous", action="store_true", help="refuse anonymous sessions (with --user)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s opcua-sim %(levelname)s %(message)s")
    logging.getLogger("asyncua").setLevel(logging.WARNING)
    logging.getLogger("asyncua.server.monitored_item_service").setLevel(logging.ERROR)  # "Percent not implemented"
    if args.secure and not args.pki:
        ap.error("--secure needs --pki")
    dynamics: Dynamics | None = None
    period = args.period
    if args.bulk and args.no_plant:
        dynamics, period = BulkDynamics(), args.bulk_interval
    elif not args.no_plant:
        dynamics = PlantDynamics()

    profiles = [load_profile_yaml(Path(p).read_text(encoding="utf-8")) for p in args.profile]
    users = _users(args.user)

    serve_until_interrupted(
        lambda: start_opcua_sim(
            profiles=profiles,
            plant=not args.no_plant,
            bulk=args.bulk,
            host=args.host,
            port=args.port,
            secure=args.secure,
            insecure=args.insecure_too or not args.secure,
            pki=Path(args.pki) if args.pki else None,
            users=users,
            anonymous=not args.no_anonymous,
            dynamics=dynamics,
            dynamics_period=period,
        ),
        lambda sim: log.info("OPC UA simulator on %s (secure=%s)", sim.endpoint, args.secure),
    )


if __name__ == "__main__":
    main()
