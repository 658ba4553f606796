"""``edgewatch secrets init DIR [--tls] [--force] [--san NAME ...] [--owner UID[:GID]]``: the secrets of a compose
or Kubernetes deployment (layout in :mod:`edgewatch.suite.secretsdir`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from edgewatch.suite.secretsdir import init_secrets

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``secrets init`` on the ``edgewatch`` sub-command parser."""
    sec = sub.add_parser("secrets", help="write the tokens, NATS users and (optionally) TLS files of a deployment")
    ssub = sec.add_subparsers(dest="secrets_cmd", required=True)
    init = ssub.add_parser("init", help="create what is missing in DIR (mode 0600 files, DIR 0700)")
    init.add_argument("dir", help="the secrets directory (compose: ./secrets; Kubernetes: --from-file=DIR)")
    init.add_argument("--tls", action="store_true", help="also a CA and a server certificate for NATS and REST")
    init.add_argument("--force", action="store_true", help="replace existing secrets (rotation: restart all after)")
    init.add_argument("--san", action="append", default=[], help="extra certificate name or IP (repeatable)")
    init.add_argument(
        "--owner",
        default="",
        help="UID[:GID] to own the files (root only): the containers' user (10001 in the edgewatch images)",
    )


def _owner(spec: str) -> tuple[int, int]:
    uid, _, gid = spec.partition(":")
    return int(uid), int(gid or uid)


def run(args: argparse.Namespace) -> int:
    """Run ``secrets init``; prints the files written."""
    directory = Path(args.dir).resolve()
    written = init_secrets(directory, tls=args.tls, force=args.force, extra_sans=args.san)
    if args.owner:
        uid, gid = _owner(args.owner)
        for p in (directory, *directory.iterdir()):
            os.chown(p, uid, gid)
    for p in written:
        print(f"wrote {p}")
    print(f"secrets in {directory} (existing ones kept{'' if not args.force else ': none, --force'})")
    return 0
