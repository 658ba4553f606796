"""Building the simulator's address space in an asyncua server: folders and objects from paths, variables with
their DataType, ValueRank, access, EURange and EngineeringUnits, and methods with typed InputArguments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asyncua import Node, Server, ua

from edgewatch.sim.opcua.model import Method, Variable

__all__ = ["AddressSpaceBuilder"]

Call = Callable[[Method, list[ua.Variant]], Awaitable[Any]]


def _argument(name: str, vt: ua.VariantType) -> ua.Argument:
    a = ua.Argument()
    a.Name = name
    a.DataType = ua.NodeId(int(vt), 0)
    a.ValueRank = -1
    return a


def _add_item(var: Variable, parent: ua.NodeId) -> ua.AddNodesItem:
    is_array = isinstance(var.value, list)
    rank = var.value_rank if var.value_rank is not None else (1 if is_array else -1)
    name = var.browse_name or var.key
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(var.description or name)
    attrs.DataType = var.data_type or ua.NodeId(int(var.variant_type), 0)
    attrs.Value = ua.Variant(var.value, var.variant_type, is_array=is_array or None)
    attrs.ValueRank = rank
    attrs.ArrayDimensions = [0] * rank if rank >= 1 else None
    access = ua.AccessLevel.CurrentRead.mask | (ua.AccessLevel.CurrentWrite.mask if var.writable else 0)
    attrs.AccessLevel = attrs.UserAccessLevel = access
    attrs.WriteMask = attrs.UserWriteMask = 0
    attrs.Historizing = False
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = var.node_id
    item.BrowseName = ua.QualifiedName(name, var.node_id.NamespaceIndex)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = ua.NodeId(ua.ObjectIds.HasComponent)
    item.TypeDefinition = ua.NodeId(ua.ObjectIds.BaseDataVariableType)
    item.NodeAttributes = attrs
    return item


class AddressSpaceBuilder:
    """Adds variables and methods under folders (or objects, for the paths methods hang on) below Objects."""

    def __init__(self, server: Server, objects: set[str], call: Call) -> None:
        self.server = server
        self.objects = objects  # folder paths that are objects (they carry methods)
        self.call = call
        self._folders: dict[str, Node] = {"": server.nodes.objects}

    async def ensure_namespaces(self, highest: int) -> None:
        """Register placeholder namespaces until index ``highest`` exists (profiles may name ns=3 directly)."""
        array = await self.server.get_namespace_array()
        while len(array) <= highest:
            await self.server.register_namespace(f"urn:edgewatch:sim:ns{len(array)}")
            array = await self.server.get_namespace_array()

    async def _folder(self, path: str) -> Node:
        if path in self._folders:
            return self._folders[path]
        parent_path, _, name = path.rpartition("/")
        parent = await self._folder(parent_path)
        ns = 2 if len(await self.server.get_namespace_array()) > 2 else 1
        node_id = ua.NodeId(path.replace("/", "."), ns)
        if path in self.objects:
            node = await parent.add_object(node_id, ua.QualifiedName(name, ns))
        else:
            node = await parent.add_folder(node_id, ua.QualifiedName(name, ns))
        self._folders[path] = node
        return node

    async def variables(self, variables: list[Variable]) -> dict[str, Node]:
        """Add variables, many per AddNodes call (asyncua's one-by-one helpers take seconds for thousands), then
        their EURange / EngineeringUnits properties."""
        items = []
        for var in variables:
            parent = await self._folder(var.folder)
            items.append(_add_item(var, parent.nodeid))
        session = self.server.iserver.isession
        for i in range(0, len(items), 1000):
            for result in await session.add_nodes(items[i : i + 1000]):
                result.StatusCode.check()
        nodes = {var.key: self.server.get_node(var.node_id) for var in variables}
        for var in variables:
            node = nodes[var.key]
            if var.eu_range is not None:
                rng = ua.Range(*var.eu_range)
                await node.add_property(0, "EURange", rng, datatype=ua.NodeId(ua.ObjectIds.Range))
            if var.units:
                eu = ua.EUInformation(DisplayName=ua.LocalizedText(var.units), Description=ua.LocalizedText(var.units))
                await node.add_property(0, "EngineeringUnits", eu, datatype=ua.NodeId(ua.ObjectIds.EUInformation))
        return nodes

    async def method(self, method: Method) -> None:
        """Add one method on its object; calls go to ``call(method, input Variants)``."""
        parent = await self._folder(method.object_folder)

        async def call(_parent: ua.NodeId, *args: ua.Variant) -> Any:
            return await self.call(method, list(args))

        await parent.add_method(
            method.node_id,
            ua.QualifiedName(method.key.rpartition(".")[2], method.node_id.NamespaceIndex),
            call,
            [_argument(n, vt) for n, vt in method.inputs],
            [_argument(n, vt) for n, vt in method.outputs],
        )
