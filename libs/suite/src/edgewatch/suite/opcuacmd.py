"""``edgewatch opcua browse <endpoint>``: list a server's variables and write an EdgeX device profile for them.

Security and trust work as in ingest, with the same PKI folder by default (``<data-dir>/opcua/pki``): a server
certificate trusted once is trusted by both, and an untrusted one is refused with the path to copy to trust it.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from asyncua import ua

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.browse import BrowsedVariable, browse_variables, profile_document, profile_yaml
from edgewatch.protocols.opcua.client import ClientOptions, Identity, close_client, open_client
from edgewatch.protocols.opcua.errors import OpcUaConnectError
from edgewatch.protocols.opcua.nodeid import format_node_id, parse_node_id
from edgewatch.protocols.opcua.security import Pki, Security

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``opcua browse``."""
    opcua = sub.add_parser("opcua", help="OPC UA tools")
    tools = opcua.add_subparsers(dest="tool", required=True)
    b = tools.add_parser("browse", help="browse a server and write an EdgeX device profile for its variables")
    b.add_argument("endpoint", help="opc.tcp://host:port/path")
    b.add_argument("--root", default="", help="node to start from (EdgeX nodeId syntax; default the Objects folder)")
    b.add_argument("--profile-out", default="", help="write an EdgeX device profile (YAML) here ('-' = stdout)")
    b.add_argument("--name", default="", help="profile name (default: from the endpoint)")
    b.add_argument("--depth", type=int, default=8, help="levels below the root to follow")
    b.add_argument("--policy", default="None", help="SecurityPolicy: None, Basic256Sha256, Aes128Sha256RsaOaep, ...")
    b.add_argument("--mode", default="", help="SecurityMode: Sign or SignAndEncrypt (default SignAndEncrypt)")
    b.add_argument("--user", default="", help="UserName identity")
    b.add_argument("--password-file", default="", help="file holding the user's password")
    b.add_argument("--pki", default="", help="client PKI folder (default <data-dir>/opcua/pki)")
    b.add_argument("--data-dir", default="", help="edgewatch data directory (for the default PKI folder)")


def _default_name(endpoint: str) -> str:
    host = endpoint.removeprefix("opc.tcp://").split("/", 1)[0].split(":", 1)[0]
    return f"opcua-{host}".replace(".", "-")


async def _browse(
    args: argparse.Namespace, pki: Pki, identity: Identity | None
) -> tuple[list[BrowsedVariable], dict[str, Any], list[BrowsedVariable]]:
    security = Security.parse(args.policy, args.mode)
    root = parse_node_id(args.root, key="--root") if args.root else None
    opts = ClientOptions(application_uri="urn:edgewatch:ingest")
    client = await open_client(args.endpoint, security, pki, identity=identity, options=opts)
    try:
        variables = await browse_variables(client, root, max_depth=args.depth)
    finally:
        await close_client(client)
    doc, skipped = profile_document(variables, args.name or _default_name(args.endpoint))
    return variables, doc, skipped


def run(args: argparse.Namespace, data_dir: Path) -> int:
    """Run ``opcua browse``; errors are printed with exit status 2."""
    try:
        identity = None
        if args.user:
            if not args.password_file:
                print("edgewatch opcua browse: --user needs --password-file (never a password on the command line)")
                return 2
            identity = Identity(args.user, Path(args.password_file).read_text(encoding="utf-8").strip())
        pki = Pki(args.pki or data_dir / "opcua" / "pki")
        variables, doc, skipped = asyncio.run(_browse(args, pki, identity))
    except (OpcUaConnectError, ProfileConfigError) as e:
        print(f"edgewatch opcua browse: {e.message}")
        return 2
    except OSError as e:
        print(f"edgewatch opcua browse: {e}")
        return 2
    for v in variables:
        vt = v.value_type or "-"
        print(f"{'/'.join(v.path):50} {format_node_id(v.node_id):40} {vt:14} {v.read_write}")
    print(f"{len(variables)} variables, {len(doc['deviceResources'])} resources, {len(skipped)} skipped")
    for v in skipped:
        kind = v.variant_type.name if isinstance(v.variant_type, ua.VariantType) else "unknown"
        print(f"  skipped {'/'.join(v.path)} ({kind}, ValueRank {v.value_rank}): no EdgeX valueType")
    if args.profile_out == "-":
        print(profile_yaml(doc), end="")
    elif args.profile_out:
        Path(args.profile_out).write_text(profile_yaml(doc), encoding="utf-8")
        print(f"profile {doc['name']!r} written to {args.profile_out}")
    return 0
