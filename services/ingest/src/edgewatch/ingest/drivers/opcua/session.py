"""One OPC UA session per endpoint and identity, shared by every device behind it, kept up by one task.

The task connects (security, trust list, identity: :func:`edgewatch.protocols.opcua.client.open_client`), tells
its listeners (each device's subscription) that the session is up so they create their subscriptions, waits until
asyncua reports the connection lost (socket closed, or its watchdog probe unanswered), tells the listeners it
is down, and reconnects with exponential backoff. Requests made while the session is down fail at once with the
last connect error (no network wait); a request made while a connect attempt is in flight waits for it.

Node DataTypes, method arguments and the server's operation limits are read once per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from asyncua import Client, ua
from asyncua.common.ua_utils import data_type_to_variant_type

from edgewatch.ingest.drivers.opcua.properties import SessionKey, read_password
from edgewatch.ingest.errors import DeviceConnectError, DeviceIOError, DeviceTimeoutError
from edgewatch.protocols.opcua.asyncuaadapter import publish_loop
from edgewatch.protocols.opcua.client import ClientOptions, close_client, open_client
from edgewatch.protocols.opcua.datatypes import NodeType, variant_type_of
from edgewatch.protocols.opcua.errors import OpcUaConnectError
from edgewatch.protocols.opcua.security import Pki
from edgewatch.protocols.opcua.status import status_text

__all__ = ["Limits", "OpcUaSession", "SessionListener", "SessionStats"]

log = logging.getLogger(__name__)

# asyncua logs every endpoint lookup at INFO and every connection problem with a traceback; the session logs what
# happened once, with the endpoint and the reason.
logging.getLogger("asyncua").setLevel(logging.WARNING)
for noisy in ("asyncua.client.client", "asyncua.client.ua_client", "asyncua.client.ua_session"):
    logging.getLogger(noisy).setLevel(logging.CRITICAL)

T = TypeVar("T")
_LOST = frozenset(
    {
        ua.StatusCodes.BadSessionIdInvalid,
        ua.StatusCodes.BadSessionClosed,
        ua.StatusCodes.BadSecureChannelIdInvalid,
        ua.StatusCodes.BadSecureChannelClosed,
        ua.StatusCodes.BadConnectionClosed,
        ua.StatusCodes.BadServerHalted,
        ua.StatusCodes.BadShutdown,
    }
)
_MAX_PUBLISH = 8  # PublishRequests in flight per session
_LIMIT_NODES = (
    ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
    ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerWrite,
    ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerMethodCall,
    ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
)


class SessionListener(Protocol):
    """A device subscription riding on a session."""

    async def session_up(self, session: OpcUaSession, client: Client) -> None:
        """The session is (re)connected: create the subscription."""

    async def session_down(self, reason: str) -> None:
        """The session is gone (the server-side subscription with it)."""


@dataclass(slots=True)
class Limits:
    """Operation limits: items per Read / Write / Call / CreateMonitoredItems request."""

    read: int
    write: int
    call: int
    monitored: int


@dataclass(slots=True)
class SessionStats:
    """Counters of one session."""

    connects: int = 0
    connect_failures: int = 0
    losses: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class OpcUaSession:
    """A self-reconnecting asyncua client session for one endpoint + security + identity."""

    def __init__(
        self,
        key: SessionKey,
        *,
        pki: Pki,
        secrets_dir: Path,
        client_options: ClientOptions,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_per_request: int = 1000,
    ) -> None:
        self.key = key
        self.pki = pki
        self.secrets_dir = secrets_dir
        self.client_options = client_options
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_per_request = max_per_request
        self.limits = Limits(max_per_request, max_per_request, max_per_request, max_per_request)
        self.users = 0
        self.client: Client | None = None
        self.last_error = ""
        self.generation = 0
        self.stats = SessionStats()
        self._listeners: list[SessionListener] = []
        self._task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._attempting = False
        self._closed = False
        self._publishers: list[asyncio.Task[None]] = []
        self._types: dict[ua.NodeId, NodeType | int] = {}
        self._arguments: dict[ua.NodeId, list[ua.Argument]] = {}

    @property
    def endpoint(self) -> str:
        """The endpoint URL."""
        return self.key.endpoint

    @property
    def up(self) -> bool:
        """True while connected."""
        return self.client is not None

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the connect/reconnect task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"opcua session {self.endpoint}")

    async def close(self) -> None:
        """Stop reconnecting and close the connection."""
        self._closed = True  # a cancellation asyncua swallows must not leave a live loop behind
        self._listeners.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=5.0)  # asyncua may delay a cancellation; never hang here
            if not done:
                log.error("opcua session task did not stop within 5s", extra={"endpoint": self.endpoint})
        self._stop_publishers()
        client, self.client = self.client, None
        if client is not None:
            await close_client(client)

    async def add_listener(self, listener: SessionListener) -> None:
        """Register a device subscription; it is created now when the session is up, else on connect."""
        self._listeners.append(listener)
        self.start()
        if self.client is not None:
            await listener.session_up(self, self.client)
            self._ensure_publishers(self.client)
        elif not self._attempting and self.last_error:
            await listener.session_down(self.last_error)

    def remove_listener(self, listener: SessionListener) -> None:
        """Forget a device subscription (it deletes its server-side subscription itself)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def _run(self) -> None:
        delay = self.backoff_initial
        while not self._closed:
            self._attempting = True
            self._settled.clear()
            try:
                client = await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.last_error = e.message if isinstance(e, OpcUaConnectError) else f"{type(e).__name__}: {e}"
                self.stats.connect_failures += 1
                self._attempting = False
                self._settled.set()
                log.warning("opcua connect failed", extra={"endpoint": self.endpoint, "error": self.last_error})
                await self._tell_down(self.last_error)
                await asyncio.sleep(delay)
                delay = min(self.backoff_max, delay * 2)
                continue
            if self._closed:
                await close_client(client)
                return
            lost = asyncio.Event()

            async def on_lost(exc: Exception, lost: asyncio.Event = lost) -> None:
                self.last_error = f"connection lost: {exc!r}"
                lost.set()

            client.connection_lost_callback = on_lost
            self.generation += 1
            self._types.clear()
            self._arguments.clear()
            await self._read_limits(client)
            self.client = client
            self.last_error = ""
            self.stats.connects += 1
            self._attempting = False
            self._settled.set()
            delay = self.backoff_initial
            log.info("opcua session up", extra={"endpoint": self.endpoint, "security": str(self.key.security)})
            for listener in list(self._listeners):
                await listener.session_up(self, client)
            self._ensure_publishers(client)
            await lost.wait()
            if self._closed:
                return
            self.stats.losses += 1
            self._stop_publishers()
            self.client = None
            log.warning("opcua session lost", extra={"endpoint": self.endpoint, "error": self.last_error})
            await self._tell_down(self.last_error)
            await close_client(client)

    async def _connect(self) -> Client:
        identity = read_password(self.key, self.secrets_dir)
        cert = (self.key.cert_file, self.key.key_file) if self.key.cert_file else None
        return await open_client(
            self.endpoint,
            self.key.security,
            self.pki,
            identity=identity,
            options=self.client_options,
            certificate=cert,
        )

    def _ensure_publishers(self, client: Client) -> None:
        """Keep one PublishRequest in flight per subscription (up to ``_MAX_PUBLISH``): asyncua keeps one per
        session, so with several subscriptions (one per device) a subscription whose turn comes late has its
        queue overwritten before it is fetched and loses values (OPC UA Part 4 recommends several requests)."""
        session = client.uaclient.session
        if session is None:
            return
        loop = publish_loop(session)  # asyncua's own loop, run more times
        self._publishers = [t for t in self._publishers if not t.done()]
        wanted = min(len(self._listeners), _MAX_PUBLISH) - 1  # asyncua runs one itself
        while len(self._publishers) < wanted:
            self._publishers.append(asyncio.create_task(loop(), name=f"opcua publish {self.endpoint}"))

    def _stop_publishers(self) -> None:
        for task in self._publishers:
            task.cancel()
        self._publishers = []

    async def _tell_down(self, reason: str) -> None:
        for listener in list(self._listeners):
            try:
                await listener.session_down(reason)
            except Exception:
                log.exception("opcua listener failed on session down", extra={"endpoint": self.endpoint})

    async def _read_limits(self, client: Client) -> None:
        default = self.max_per_request
        try:
            dvs = await client.uaclient.read_attributes([ua.NodeId(i, 0) for i in _LIMIT_NODES], ua.AttributeIds.Value)
            found = [
                int(dv.Value.Value)
                if dv.StatusCode is not None and dv.StatusCode.is_good() and dv.Value and dv.Value.Value
                else 0
                for dv in dvs
            ]
        except Exception:  # optional nodes: a server without them has no limits we know of
            found = [0, 0, 0, 0]
        self.limits = Limits(*(min(default, n) if n > 0 else default for n in found))

    # --- requests ------------------------------------------------------------------------------------------

    async def ready(self) -> Client:
        """The connected client, waiting for a connect attempt in flight.

        Raises:
            DeviceConnectError: not connected (the message carries the last connect error).
        """
        self.start()
        if self.client is None and (self._attempting or not self._settled.is_set()):
            with contextlib.suppress(TimeoutError):  # at most one request timeout: callers have their own deadlines
                async with asyncio.timeout(self.client_options.timeout):
                    await self._settled.wait()
        client = self.client
        if client is None:
            raise DeviceConnectError(f"not connected: {self.last_error or 'connecting'}", address=self.endpoint)
        return client

    async def request(self, what: str, call: Callable[[Client], Awaitable[T]]) -> T:
        """Run one service call with typed errors.

        Raises:
            DeviceTimeoutError: no answer within the request timeout.
            DeviceConnectError: not connected, or the connection broke.
            DeviceIOError: the server refused the service call as a whole (its StatusCode in the message).
        """
        client = await self.ready()
        try:
            return await call(client)
        except TimeoutError as e:
            raise DeviceTimeoutError(
                f"no answer within {self.client_options.timeout:g}s to {what}", address=self.endpoint
            ) from e
        except (ConnectionError, OSError) as e:
            raise DeviceConnectError(f"connection lost during {what}: {e}", address=self.endpoint) from e
        except ua.UaStatusCodeError as e:
            code = int(e.code)
            if code in _LOST:
                raise DeviceConnectError(f"{what}: {status_text(code)}", address=self.endpoint) from e
            raise DeviceIOError(f"{what} refused: {status_text(code)}", address=self.endpoint) from e
        except ua.UaError as e:
            raise DeviceIOError(f"{what} failed: {e}", address=self.endpoint) from e

    async def read(self, nodes: Sequence[ua.NodeId], attribute: int = ua.AttributeIds.Value) -> list[ua.DataValue]:
        """Read an attribute of many nodes: one Read request per ``limits.read`` nodes (usually one)."""
        out: list[ua.DataValue] = []
        step = self.limits.read
        for i in range(0, len(nodes), step):
            chunk = nodes[i : i + step]
            params = ua.ReadParameters()
            params.MaxAge = 0
            params.TimestampsToReturn = ua.TimestampsToReturn.Both
            params.NodesToRead = [ua.ReadValueId(NodeId=n, AttributeId=attribute) for n in chunk]

            async def read(c: Client, p: Any = params) -> list[ua.DataValue]:
                return list(await c.uaclient.read(p))

            out.extend(await self.request(f"read of {len(chunk)} nodes", read))
        return out

    async def write(self, items: Sequence[tuple[ua.NodeId, ua.Variant]]) -> list[ua.StatusCode]:
        """Write values (no timestamps: many servers refuse written timestamps) and return each node's status."""
        out: list[ua.StatusCode] = []
        step = self.limits.write
        for i in range(0, len(items), step):
            params = ua.WriteParameters()
            params.NodesToWrite = [
                ua.WriteValue(NodeId=n, AttributeId=ua.AttributeIds.Value, Value=ua.DataValue(v, StatusCode=None))
                for n, v in items[i : i + step]
            ]

            async def write(c: Client, p: Any = params) -> list[ua.StatusCode]:
                return list(await c.uaclient.write(p))

            out.extend(await self.request(f"write of {len(params.NodesToWrite)} nodes", write))
        return out

    async def call(self, object_id: ua.NodeId, method_id: ua.NodeId, inputs: list[ua.Variant]) -> ua.CallMethodResult:
        """Call one method."""
        req = ua.CallMethodRequest(ObjectId=object_id, MethodId=method_id, InputArguments=inputs)
        results = await self.request(f"call of {method_id.to_string()}", lambda c: c.uaclient.call([req]))
        return results[0]

    async def node_types(self, nodes: Sequence[ua.NodeId]) -> dict[ua.NodeId, NodeType | int]:
        """Each node's DataType and ValueRank (a Bad StatusCode int for a node the server refuses); cached per
        connection."""
        missing = [n for n in dict.fromkeys(nodes) if n not in self._types]
        if missing:
            types = await self.read(missing, ua.AttributeIds.DataType)
            ranks = await self.read(missing, ua.AttributeIds.ValueRank)
            for node, dt, rank in zip(missing, types, ranks, strict=True):
                status = dt.StatusCode.value if dt.StatusCode is not None else 0
                if status & 0x80000000 or dt.Value is None or not isinstance(dt.Value.Value, ua.NodeId):
                    self._types[node] = int(status) or ua.StatusCodes.BadNodeIdUnknown
                    continue
                data_type = dt.Value.Value
                value_rank = int(rank.Value.Value) if rank.Value is not None and rank.Value.Value is not None else -1
                self._types[node] = NodeType(await self._variant_type(data_type), value_rank, data_type)
        return {n: self._types[n] for n in nodes}

    async def argument_type(self, arg: ua.Argument) -> NodeType:
        """The NodeType of a method argument."""
        return NodeType(await self._variant_type(arg.DataType), int(arg.ValueRank), arg.DataType)

    async def _variant_type(self, data_type: ua.NodeId) -> ua.VariantType:
        known = variant_type_of(data_type)
        if known is not None:
            return known

        async def walk(c: Client) -> ua.VariantType:
            return await data_type_to_variant_type(c.get_node(data_type))

        return await self.request(f"DataType {data_type.to_string()} lookup", walk)

    async def method_arguments(self, method_id: ua.NodeId) -> list[ua.Argument] | None:
        """The InputArguments of a method (None when it declares none); cached per connection."""
        if method_id in self._arguments:
            return self._arguments[method_id]

        async def fetch(c: Client) -> Any:
            try:
                child = await c.get_node(method_id).get_child("0:InputArguments")
            except ua.UaStatusCodeError:
                return None
            return await child.read_value()

        args = await self.request(f"InputArguments of {method_id.to_string()}", fetch)
        if args is None:
            return None
        self._arguments[method_id] = list(args)
        return self._arguments[method_id]
