"""Browse an OPC UA server and write an EdgeX device profile for the variables found (EdgeX has no discovery).

The walk follows hierarchical references (Organizes, HasComponent, ...) from a root (default: the Objects folder,
leaving the standard ``Server`` object out), level by level with one Browse request per level, up to a depth.
Properties (HasProperty) are not resources: a variable's ``EngineeringUnits`` gives the resource's ``units``.
Each variable's DataType, ValueRank and AccessLevel are read in batches and mapped to an EdgeX ``valueType`` and
``readWrite``; variables EdgeX cannot represent (a ByteString array, DiagnosticInfo, ...) are listed as skipped.
Resource names are the browse path joined with ``_`` (they become NATS subject tokens, so no dots).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from asyncua import Client, ua
from asyncua.common.ua_utils import data_type_to_variant_type

from edgewatch.protocols.opcua.datatypes import value_type_for, variant_type_of
from edgewatch.protocols.opcua.nodeid import format_node_id

__all__ = ["BrowsedVariable", "browse_variables", "profile_document", "profile_yaml"]

_HIERARCHICAL = ua.NodeId(ua.ObjectIds.HierarchicalReferences, 0)
_HAS_PROPERTY = ua.NodeId(ua.ObjectIds.HasProperty, 0)
_SERVER = ua.NodeId(ua.ObjectIds.Server, 0)
_OBJECTS = ua.NodeId(ua.ObjectIds.ObjectsFolder, 0)
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class BrowsedVariable:
    """One variable found on the server."""

    path: tuple[str, ...]  # browse names below the root
    node_id: ua.NodeId
    variant_type: ua.VariantType | None
    value_rank: int
    readable: bool
    writable: bool
    description: str = ""
    units: str = ""

    @property
    def value_type(self) -> str | None:
        """The EdgeX valueType, or None when EdgeX has none for it."""
        if self.variant_type is None:
            return None
        vt = value_type_for(self.variant_type, self.value_rank)
        return vt.value if vt is not None else None

    @property
    def read_write(self) -> str:
        """``R``, ``W`` or ``RW`` from the AccessLevel."""
        return ("R" if self.readable else "") + ("W" if self.writable else "") or "R"


async def _browse(client: Client, nodes: Sequence[ua.NodeId], ref: ua.NodeId, mask: int) -> list[list[Any]]:
    out: list[list[Any]] = []
    for i in range(0, len(nodes), 500):
        params = ua.BrowseParameters()
        params.NodesToBrowse = [
            ua.BrowseDescription(
                NodeId=n,
                BrowseDirection=ua.BrowseDirection.Forward,
                ReferenceTypeId=ref,
                IncludeSubtypes=True,
                NodeClassMask=mask,
                ResultMask=ua.BrowseResultMask.All,
            )
            for n in nodes[i : i + 500]
        ]
        params.RequestedMaxReferencesPerNode = 0
        for result in await client.uaclient.browse(params):
            refs = list(result.References or [])
            point = result.ContinuationPoint
            while point:
                nxt = ua.BrowseNextParameters()
                nxt.ContinuationPoints = [point]
                (more,) = await client.uaclient.browse_next(nxt)
                refs.extend(more.References or [])
                point = more.ContinuationPoint
            out.append(refs)
    return out


async def _read(client: Client, nodes: Sequence[ua.NodeId], attribute: int) -> list[Any]:
    values: list[Any] = []
    for i in range(0, len(nodes), 500):
        for dv in await client.uaclient.read_attributes(list(nodes[i : i + 500]), attribute):
            good = dv.StatusCode is None or dv.StatusCode.is_good()
            values.append(dv.Value.Value if good and dv.Value is not None else None)
    return values


async def browse_variables(
    client: Client, root: ua.NodeId | None = None, *, max_depth: int = 8, include_server: bool = False
) -> list[BrowsedVariable]:
    """Every variable below ``root`` (default Objects), with what a profile needs to know about it."""
    start = root or _OBJECTS
    mask = ua.NodeClass.Object | ua.NodeClass.Variable
    level: list[tuple[ua.NodeId, tuple[str, ...]]] = [(start, ())]
    seen = {start}
    found: list[tuple[ua.NodeId, tuple[str, ...]]] = []
    for _ in range(max_depth):
        if not level:
            break
        children = await _browse(client, [n for n, _ in level], _HIERARCHICAL, int(mask))
        nxt: list[tuple[ua.NodeId, tuple[str, ...]]] = []
        for (_, path), refs in zip(level, children, strict=True):
            for ref in refs:
                if ref.ReferenceTypeId == _HAS_PROPERTY:
                    continue
                node = ua.NodeId(ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType)
                if node in seen or (node == _SERVER and not include_server):
                    continue
                seen.add(node)
                child = (*path, str(ref.BrowseName.Name))
                if ref.NodeClass == ua.NodeClass.Variable:
                    found.append((node, child))
                nxt.append((node, child))
        level = nxt
    return await _describe(client, found)


async def _describe(client: Client, found: list[tuple[ua.NodeId, tuple[str, ...]]]) -> list[BrowsedVariable]:
    nodes = [n for n, _ in found]
    types = await _read(client, nodes, ua.AttributeIds.DataType)
    ranks = await _read(client, nodes, ua.AttributeIds.ValueRank)
    access = await _read(client, nodes, ua.AttributeIds.UserAccessLevel)
    descriptions = await _read(client, nodes, ua.AttributeIds.Description)
    units = await _units(client, nodes)
    cache: dict[ua.NodeId, ua.VariantType | None] = {}
    out = []
    for i, (node, path) in enumerate(found):
        dt = types[i]
        vt: ua.VariantType | None = None
        if isinstance(dt, ua.NodeId):
            if dt not in cache:
                cache[dt] = variant_type_of(dt)
                if cache[dt] is None:
                    try:
                        cache[dt] = await data_type_to_variant_type(client.get_node(dt))
                    except ua.UaError:
                        cache[dt] = None
            vt = cache[dt]
        level = int(access[i] or 0)
        text = descriptions[i].Text if isinstance(descriptions[i], ua.LocalizedText) else ""
        rank = int(ranks[i]) if ranks[i] is not None else -1
        out.append(BrowsedVariable(path, node, vt, rank, bool(level & 1), bool(level & 2), text or "", units[i]))
    return out


async def _units(client: Client, nodes: list[ua.NodeId]) -> list[str]:
    props = await _browse(client, nodes, _HAS_PROPERTY, int(ua.NodeClass.Variable))
    eu_nodes: dict[int, ua.NodeId] = {}
    for i, refs in enumerate(props):
        for ref in refs:
            if ref.BrowseName.Name == "EngineeringUnits":
                eu_nodes[i] = ua.NodeId(ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType)
    values = await _read(client, list(eu_nodes.values()), ua.AttributeIds.Value) if eu_nodes else []
    out = [""] * len(nodes)
    for (i, _), eu in zip(eu_nodes.items(), values, strict=True):
        if isinstance(eu, ua.EUInformation) and eu.DisplayName is not None:
            out[i] = eu.DisplayName.Text or ""
    return out


def _resource_name(path: tuple[str, ...], taken: set[str]) -> str:
    base = "_".join(_NAME.sub("_", p).strip("_") for p in path if p) or "Variable"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def profile_document(
    variables: Sequence[BrowsedVariable], name: str, *, manufacturer: str = "", model: str = "", description: str = ""
) -> tuple[dict[str, Any], list[BrowsedVariable]]:
    """An EdgeX device profile (as a dict) with one resource per mappable variable, and the skipped variables."""
    taken: set[str] = set()
    resources: list[dict[str, Any]] = []
    skipped: list[BrowsedVariable] = []
    for v in variables:
        vt = v.value_type
        if vt is None or (vt == "Binary" and v.writable and not v.readable):
            skipped.append(v)
            continue
        props: dict[str, Any] = {"valueType": vt, "readWrite": "R" if vt == "Binary" else v.read_write}
        if v.units:
            props["units"] = v.units
        resources.append(
            {
                "name": _resource_name(v.path, taken),
                "description": v.description or "/".join(v.path),
                "attributes": {"nodeId": format_node_id(v.node_id)},
                "properties": props,
            }
        )
    doc: dict[str, Any] = {"name": name}
    if manufacturer:
        doc["manufacturer"] = manufacturer
    if model:
        doc["model"] = model
    doc["description"] = description or f"Generated by edgewatch opcua browse ({len(resources)} variables)"
    doc["labels"] = ["opcua"]
    doc["deviceResources"] = resources
    return doc, skipped


def profile_yaml(doc: dict[str, Any]) -> str:
    """The profile as YAML, keys in EdgeX's order."""
    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120))
