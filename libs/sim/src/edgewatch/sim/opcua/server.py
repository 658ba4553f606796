"""An OPC UA simulator: a real asyncua server whose address space is declared as data (variables and methods).

Used by the tests, the benchmark and the demo. ``await start_opcua_sim(...)`` (:mod:`.launch`) returns a running
:class:`OpcUaSim` with ``.endpoint``, ``.set_value()`` / ``.get_value()`` (optionally with a StatusCode and a source
timestamp),
``.stop()``, ``.start()`` and ``.restart()`` (same port; values and their timestamps survive, like a PLC that keeps
its memory). Variables come from a plant model (:mod:`edgewatch.sim.opcua.plant`), from EdgeX device profiles
(each resource's ``nodeId`` with the DataType of its valueType) or are declared directly with :class:`Variable`.

Security: ``secure=True`` serves the Basic256Sha256, Aes128Sha256RsaOaep and Aes256Sha256RsaPss endpoints (Sign and
SignAndEncrypt) with a server certificate generated on first use in ``pki``; ``insecure=True`` keeps the None
endpoint beside them. ``users`` turns on UserName identities (anonymous stays allowed only with ``anonymous``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asyncua import Node, Server, ua
from asyncua.common.callback import CallbackType, ServerItemCallback
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.internal_server import InternalServer

from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.values import ValueFormatError, parse_value
from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.protocols.opcua.asyncuaadapter import clock_task
from edgewatch.protocols.opcua.attributes import parse_attributes
from edgewatch.protocols.opcua.datatypes import VALUE_TYPE_VARIANTS
from edgewatch.protocols.opcua.security import Pki
from edgewatch.sim.opcua.address import AddressSpaceBuilder
from edgewatch.sim.opcua.model import Dynamics, Method, Variable

__all__ = ["APPLICATION_URI", "OpcUaSim", "free_port"]

log = logging.getLogger(__name__)

APPLICATION_URI = "urn:edgewatch:sim"
PATH = "/edgewatch/sim"


_SECURE_POLICIES = [
    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    ua.SecurityPolicyType.Basic256Sha256_Sign,
    ua.SecurityPolicyType.Aes128Sha256RsaOaep_SignAndEncrypt,
    ua.SecurityPolicyType.Aes128Sha256RsaOaep_Sign,
    ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
    ua.SecurityPolicyType.Aes256Sha256RsaPss_Sign,
]


class _Users:
    """asyncua user manager: UserName identities checked against a table; anonymous when allowed."""

    def __init__(self, users: Mapping[str, str], anonymous: bool) -> None:
        self.users = dict(users)
        self.anonymous = anonymous

    def get_user(
        self, iserver: InternalServer, username: str | None = None, password: str | None = None, certificate: Any = None
    ) -> User | None:
        if username is None:
            return User(role=UserRole.User) if self.anonymous else None
        if self.users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class OpcUaSim:
    """A running (or stopped) simulated OPC UA server."""

    host: str = "127.0.0.1"
    port: int = 0
    secure: bool = False
    insecure: bool = True
    pki: Path | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    anonymous: bool = True
    namespaces: Sequence[str] = ("urn:edgewatch:sim:plant",)
    name: str = "edgewatch OPC UA simulator"
    variables: dict[str, Variable] = field(default_factory=dict)
    methods: dict[str, Method] = field(default_factory=dict)
    dynamics: Dynamics | None = None
    dynamics_period: float = 0.2
    server: Server | None = field(default=None, init=False)
    calls: list[tuple[str, list[Any]]] = field(default_factory=list, init=False)
    reads: list[int] = field(default_factory=list, init=False)  # nodes per client Read request of Values
    _nodes: dict[str, Node] = field(default_factory=dict, init=False)
    _saved: dict[str, ua.DataValue] = field(default_factory=dict, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _t0: float = field(default_factory=time.monotonic, init=False)

    def __post_init__(self) -> None:
        if self.port == 0:
            self.port = free_port(self.host)

    @property
    def endpoint(self) -> str:
        """``opc.tcp://host:port/edgewatch/sim``."""
        return f"opc.tcp://{self.host}:{self.port}{PATH}"

    @property
    def certificate(self) -> bytes:
        """The server certificate (DER), created on first use (secure simulators only)."""
        if self.pki is None:
            raise RuntimeError("the simulator has no PKI folder")
        cert, _ = Pki(self.pki).own_certificate(APPLICATION_URI, name="edgewatch-sim")
        return cert.read_bytes()

    # --- address space -------------------------------------------------------------------------------------

    def add(self, *items: Variable | Method) -> None:
        """Declare variables / methods (before :meth:`start`, or followed by :meth:`restart`)."""
        for item in items:
            if isinstance(item, Variable):
                self.variables[item.key] = item
            else:
                self.methods[item.key] = item

    def add_profile(self, profile: DeviceProfile, folder: str = "") -> None:
        """One variable per resource with a ``nodeId``: its valueType's built-in type, the defaultValue (or zero),
        writable when the resource is."""
        for r in profile.device_resources:
            attrs = r.attributes or {}
            if "nodeId" not in attrs:
                continue
            vt = ValueType(r.properties.value_type)
            if vt.element not in VALUE_TYPE_VARIANTS or vt in (ValueType.OBJECT, ValueType.OBJECT_ARRAY):
                continue
            node = parse_attributes(attrs, vt, resource=r.name).node_id
            assert node is not None
            self.add(
                Variable(
                    r.name,
                    node,
                    _initial(vt, r.properties.default_value),
                    VALUE_TYPE_VARIANTS[vt.element],
                    folder=folder or profile.name,
                    writable="W" in r.properties.read_write,
                    units=r.properties.units,
                    description=r.description,
                )
            )

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the address space and listen (values saved by :meth:`stop` are restored with their timestamps)."""
        server = Server(user_manager=_Users(self.users, self.anonymous) if self.users else None)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(self.name)
        await server.set_application_uri(APPLICATION_URI)
        policies = [ua.SecurityPolicyType.NoSecurity] if (self.insecure or not self.secure) else []
        if self.secure:
            if self.pki is None:
                raise RuntimeError("a secure simulator needs a PKI folder")
            own = await asyncio.to_thread(Pki(self.pki).own_certificate, APPLICATION_URI, name="edgewatch-sim")
            await server.load_certificate(str(own[0]))
            await server.load_private_key(str(own[1]))
            policies += _SECURE_POLICIES
        server.set_security_policy(policies)
        tokens: list[type] = [ua.UserNameIdentityToken] if self.users else []
        if self.anonymous or not self.users:
            tokens.append(ua.AnonymousIdentityToken)
        server.set_identity_tokens(tokens)
        for uri in self.namespaces:
            await server.register_namespace(uri)
        builder = AddressSpaceBuilder(server, {m.object_folder for m in self.methods.values()}, self._call)
        nodes = [v.node_id for v in self.variables.values()] + [m.node_id for m in self.methods.values()]
        await builder.ensure_namespaces(max([n.NamespaceIndex for n in nodes] + [0]))
        self._nodes = await builder.variables(list(self.variables.values()))
        for method in self.methods.values():
            await builder.method(method)
        for key, dv in self._saved.items():
            if key in self._nodes:
                await server.write_attribute_value(self._nodes[key].nodeid, dv)
        self._saved = {}
        server.subscribe_server_callback(CallbackType.PreRead, self._on_read)
        await server.start()
        self.server = server
        if self.dynamics is not None and self._task is None:
            self._task = asyncio.create_task(self._run_dynamics(), name="opcua sim dynamics")
        log.info("opcua simulator listening", extra={"endpoint": self.endpoint, "secure": self.secure})

    async def stop(self) -> None:
        """Stop listening (clients see the connection drop); values are kept for :meth:`start`."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        server, self.server = self.server, None
        if server is None:
            return
        self._saved = {k: server.read_attribute_value(n.nodeid) for k, n in self._nodes.items()}
        clock = clock_task(server.iserver)  # asyncua's stop waits up to 1 s for its clock loop to notice
        if clock is not None:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock
            server.iserver.time_task = None
        await server.stop()

    async def restart(self) -> None:
        """Stop, then start again on the same port with the same values."""
        await self.stop()
        await self.start()

    async def close(self) -> None:
        """Stop for good."""
        await self.stop()

    # --- values --------------------------------------------------------------------------------------------

    def node_id(self, key: str) -> ua.NodeId:
        """The NodeId of a variable or method."""
        if key in self.variables:
            return self.variables[key].node_id
        return self.methods[key].node_id

    async def set_value(
        self, key: str, value: Any, *, status: int = ua.StatusCodes.Good, source_time: datetime | None = None
    ) -> None:
        """Write a value as the device would (source timestamp now unless given; a Bad status nulls it)."""
        if self.server is None:
            raise RuntimeError("the simulator is not running")
        var = self.variables[key]
        now = datetime.now(UTC)
        dv = ua.DataValue(
            ua.Variant(value, var.variant_type, is_array=isinstance(value, list) or None),
            StatusCode=ua.StatusCode(status),
            SourceTimestamp=source_time or now,
            ServerTimestamp=now,
        )
        await self.server.write_attribute_value(var.node_id, dv)

    async def set_many(self, values: Mapping[str, Any]) -> None:
        """Write many values with one source timestamp (the bulk load of the benchmark)."""
        if self.server is None:
            raise RuntimeError("the simulator is not running")
        now = datetime.now(UTC)
        write = self.server.write_attribute_value
        for i, (key, value) in enumerate(values.items(), 1):
            var = self.variables[key]
            dv = ua.DataValue(ua.Variant(value, var.variant_type), SourceTimestamp=now, ServerTimestamp=now)
            await write(var.node_id, dv)
            if i % 250 == 0:
                await asyncio.sleep(0)  # let the server answer its clients between chunks, as a PLC scan would

    def data_value(self, key: str) -> ua.DataValue:
        """The current DataValue of a variable."""
        if self.server is None:
            raise RuntimeError("the simulator is not running")
        return self.server.read_attribute_value(self.variables[key].node_id)

    def get_value(self, key: str) -> Any:
        """The current value of a variable."""
        dv = self.data_value(key)
        return None if dv.Value is None else dv.Value.Value

    # --- calls -------------------------------------------------------------------------------------------

    async def _call(self, method: Method, args: list[ua.Variant]) -> Any:
        values = [a.Value if isinstance(a, ua.Variant) else a for a in args]
        if len(values) != len(method.inputs):
            few = len(values) < len(method.inputs)
            return ua.StatusCode(ua.StatusCodes.BadArgumentsMissing if few else ua.StatusCodes.BadTooManyArguments)
        for a, (_name, vt) in zip(args, method.inputs, strict=True):
            if isinstance(a, ua.Variant) and a.VariantType != vt:
                return ua.StatusCode(ua.StatusCodes.BadInvalidArgument)
        self.calls.append((method.key, values))
        result = method.handler(self, values)
        return await result if inspect.isawaitable(result) else result

    def _on_read(self, event: ServerItemCallback, _dispatcher: Any) -> None:
        if not event.is_external:
            return
        nodes = [n for n in event.request_params.NodesToRead if n.AttributeId == ua.AttributeIds.Value]
        if nodes:
            self.reads.append(len(nodes))

    async def _run_dynamics(self) -> None:
        assert self.dynamics is not None
        due = time.monotonic()
        while True:
            try:
                out = self.dynamics(self, time.monotonic() - self._t0)
                if inspect.isawaitable(out):
                    await out
            except Exception:  # a dynamics bug must not stop the simulator
                log.exception("opcua sim dynamics failed")
            due += self.dynamics_period  # a fixed rate: the time a step takes is not added to the period
            now = time.monotonic()
            if due < now:  # fell behind: no burst to catch up, and a pause so the server still serves its clients
                due = now + self.dynamics_period / 4
            await asyncio.sleep(due - now)


def _initial(vt: ValueType, default: str) -> Any:
    if default:
        try:
            return parse_value(vt, default)
        except ValueFormatError:
            pass
    if vt.is_array:
        return []
    if vt is ValueType.BOOL:
        return False
    if vt is ValueType.STRING:
        return ""
    if vt is ValueType.BINARY:
        return b""
    return 0.0 if vt.is_float else 0
