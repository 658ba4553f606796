"""EdgeX ``nodeId`` strings (device-opc-ua, gopcua ``ua.ParseNodeID``) <-> asyncua NodeIds.

Accepted forms: ``ns=<n>;i=<uint32>``, ``ns=<n>;s=<string>`` (the rest of the text, semicolons included),
``ns=<n>;g=<guid>``, ``ns=<n>;b=<base64>``; ``ns=`` may be left out (namespace 0). ``nsu=`` / ``srv=`` (expanded
node ids) are refused: a resource names a node of the server it is read from.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from asyncua import ua

from edgewatch.protocols.errors import ProfileConfigError

__all__ = ["format_node_id", "parse_node_id"]


def _fail(text: str, why: str, device: str, resource: str, key: str) -> ProfileConfigError:
    return ProfileConfigError(f"{key} {text!r} is not an OPC UA node id: {why}", device=device, resource=resource)


def parse_node_id(text: object, *, device: str = "", resource: str = "", key: str = "nodeId") -> ua.NodeId:
    """Parse an EdgeX nodeId attribute.

    Raises:
        ProfileConfigError: not a node id; the message names the device, the resource and the attribute.
    """
    if not isinstance(text, str) or not text.strip():
        raise _fail(str(text), "it must be a non-empty string", device, resource, key)
    raw = text.strip()
    namespace = 0
    rest = raw
    if rest.startswith("ns="):
        head, sep, rest = rest.partition(";")
        if not sep:
            raise _fail(raw, "no identifier after the namespace (ns=<n>;i=<id>)", device, resource, key)
        try:
            namespace = int(head[3:])
        except ValueError:
            raise _fail(raw, f"namespace {head[3:]!r} is not an integer", device, resource, key) from None
        if not 0 <= namespace <= 0xFFFF:
            raise _fail(raw, f"namespace {namespace} is outside 0..65535", device, resource, key)
    kind, sep, ident = rest.partition("=")
    if not sep or kind not in ("i", "s", "g", "b"):
        raise _fail(raw, "the identifier must be i=, s=, g= or b=", device, resource, key)
    if kind == "i":
        try:
            number = int(ident)
        except ValueError:
            raise _fail(raw, f"numeric identifier {ident!r} is not an integer", device, resource, key) from None
        if not 0 <= number <= 0xFFFFFFFF:
            raise _fail(raw, f"numeric identifier {number} is outside 0..4294967295", device, resource, key)
        return ua.NodeId(number, namespace, ua.NodeIdType.Numeric)
    if kind == "s":
        if not ident:
            raise _fail(raw, "empty string identifier", device, resource, key)
        return ua.NodeId(ident, namespace, ua.NodeIdType.String)
    if kind == "g":
        try:
            return ua.NodeId(uuid.UUID(ident), namespace, ua.NodeIdType.Guid)
        except ValueError:
            raise _fail(raw, f"{ident!r} is not a GUID", device, resource, key) from None
    try:
        data = base64.b64decode(ident, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(raw, f"{ident!r} is not base64", device, resource, key) from None
    return ua.NodeId(data, namespace, ua.NodeIdType.ByteString)


def format_node_id(node_id: ua.NodeId) -> str:
    """The EdgeX text of a node id (``ns`` always written except for namespace 0; ByteStrings as base64)."""
    prefix = f"ns={node_id.NamespaceIndex};" if node_id.NamespaceIndex else ""
    ident = node_id.Identifier
    if node_id.NodeIdType in (ua.NodeIdType.Numeric, ua.NodeIdType.TwoByte, ua.NodeIdType.FourByte):
        return f"{prefix}i={ident}"
    if node_id.NodeIdType == ua.NodeIdType.Guid:
        return f"{prefix}g={ident}"
    if node_id.NodeIdType == ua.NodeIdType.ByteString:
        return f"{prefix}b={base64.b64encode(bytes(ident)).decode('ascii')}"
    return f"{prefix}s={ident}"
