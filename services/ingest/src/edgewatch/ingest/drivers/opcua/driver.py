"""OpcUaDriver: one device on a shared session; batched reads, typed writes, method calls, a subscription.

- Reads: every variable asked for in one Read request (per the server's MaxNodesPerRead), method resources by one
  Call each; each value comes back as a Sample (origin from the source timestamp, StatusCode tags, Bad -> no value).
- Writes: the Variant is built from the node's DataType and ValueRank (read once per connection); every node's
  write StatusCode is checked, and a refusal is an EdgeX error naming the resource and the status.
- Methods (EdgeX ``objectId`` / ``methodId`` / ``inputMap``): inputs are typed from the method's InputArguments;
  a GET calls with ``inputMap``, a SET with the value given (a list for several inputs); the reading is the first
  output argument.
- Subscription: the device's monitored resources, one subscription with the device's publishing interval.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from asyncua import ua

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile, readable
from edgewatch.common.contracts.values import ValueFormatError, parse_value
from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.ingest.drivers.base import PushSink, Sample
from edgewatch.ingest.drivers.opcua.monitor import DeviceMonitor, MonitoredResource
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.ingest.drivers.opcua.properties import OpcUaLink, parse_link
from edgewatch.ingest.drivers.opcua.samples import sample_of, status_error
from edgewatch.ingest.drivers.opcua.session import OpcUaSession
from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.attributes import MethodCall, OpcUaAttributes, parse_attributes
from edgewatch.protocols.opcua.datatypes import NodeType, from_variant, to_variant, value_type_for
from edgewatch.protocols.opcua.errors import OpcUaTypeError
from edgewatch.protocols.opcua.status import is_bad, status_tags

__all__ = ["OpcUaDriver", "create_driver", "parse_profile_attributes"]

log = logging.getLogger(__name__)


def parse_profile_attributes(
    profile: DeviceProfile, device: str = "", monitored: Sequence[str] = ()
) -> tuple[dict[str, OpcUaAttributes], dict[str, str]]:
    """Parse every resource's attributes once: (valid attributes, error message per invalid resource)."""
    ok: dict[str, OpcUaAttributes] = {}
    bad: dict[str, str] = {}
    for r in profile.device_resources:
        try:
            ok[r.name] = parse_attributes(
                r.attributes,
                r.properties.value_type,
                device=device or profile.name,
                resource=r.name,
                monitored=r.name in monitored,
            )
        except ProfileConfigError as e:
            bad[r.name] = e.message
    return ok, bad


class OpcUaDriver:
    """Reads, writes, calls and subscribes one device's resources through a shared :class:`OpcUaSession`."""

    def __init__(
        self,
        device: str,
        link: OpcUaLink,
        attributes: Mapping[str, OpcUaAttributes],
        invalid: Mapping[str, str],
        options: OpcUaOptions,
    ) -> None:
        self.device = device
        self.link = link
        self.attributes = dict(attributes)
        self.invalid = dict(invalid)
        self.options = options
        self.monitor: DeviceMonitor | None = None
        self._session: OpcUaSession | None = None

    @property
    def session(self) -> OpcUaSession:
        """The shared session (acquired on first use)."""
        if self._session is None:
            self._session = self.options.pool.acquire(self.link.key)
        return self._session

    @property
    def last_error(self) -> str:
        """Why the device is unreachable ("" while connected)."""
        return "" if self._session is None else self._session.last_error

    @property
    def monitored(self) -> list[str]:
        """Resources with a monitored-item spec."""
        return [n for n, a in self.attributes.items() if a.monitor is not None]

    async def connect(self) -> None:
        """Attach to the endpoint's shared session (it connects in the background)."""
        self.session.start()

    async def close(self) -> None:
        """Delete the subscription and release the session."""
        await self.unsubscribe()
        if self._session is not None:
            session, self._session = self._session, None
            await self.options.pool.release(session)

    def _attrs(self, name: str) -> OpcUaAttributes:
        a = self.attributes.get(name)
        if a is None:
            msg = self.invalid.get(name)
            raise ProfileConfigError(msg or f"{name}: not a resource of the device's profile", device=self.device)
        return a

    # --- reads ---------------------------------------------------------------------------------------------

    async def read(self, resources: Sequence[str]) -> dict[str, Sample]:
        """Read resources: the variables in one Read request, then each method resource by one Call.

        Raises:
            DeviceIOError: the server is unreachable, timed out or refused the whole request.
            ProfileConfigError: a resource is unknown or has invalid attributes.
        """
        attrs = {n: self._attrs(n) for n in resources}
        variables = [(n, a) for n, a in attrs.items() if a.node_id is not None]
        out: dict[str, Sample] = {}
        if variables:
            values = await self.session.read([a.node_id for _, a in variables if a.node_id is not None])
            origin = self.link.timestamp_origin
            for (name, a), dv in zip(variables, values, strict=True):
                out[name] = sample_of(dv, a.value_type, origin, device=self.device, resource=name, node=a.node_text)
        for name, a in attrs.items():
            if a.method is not None:
                out[name] = await self._call(name, a, None)
        return out

    # --- writes --------------------------------------------------------------------------------------------

    async def write(self, values: Mapping[str, Any]) -> None:
        """Write values (valueType, transforms already inverted) in one Write request; method resources are called.

        Raises:
            OpcUaTypeError (400): a value does not fit its node's DataType / ValueRank (nothing was written).
            OpcUaStatusError: the server refused a node (404 unknown, 405 not writable, 403 access denied, 400
                type mismatch...); the message names the resource, the node and the StatusCode.
            DeviceIOError: unreachable or timed out.
        """
        attrs = {n: self._attrs(n) for n in values}
        nodes = {n: a.node_id for n, a in attrs.items() if a.node_id is not None}
        if nodes:
            types = await self.session.node_types(list(nodes.values()))
            items: list[tuple[str, ua.NodeId, ua.Variant]] = []
            for name, node in nodes.items():
                node_type = types[node]
                if isinstance(node_type, int):
                    raise status_error(node_type, f"node {node.to_string()}", device=self.device, resource=name)
                items.append((name, node, to_variant(values[name], node_type, device=self.device, resource=name)))
            statuses = await self.session.write([(node, variant) for _, node, variant in items])
            for (name, node, _), status in zip(items, statuses, strict=True):
                if not status.is_good():
                    raise status_error(
                        int(status.value), f"write to node {node.to_string()}", device=self.device, resource=name
                    )
        for name, a in attrs.items():
            if a.method is not None:
                sample = await self._call(name, a, values[name], output=False)
                if sample.error is not None:
                    raise sample.error

    # --- methods -------------------------------------------------------------------------------------------

    async def _call(self, name: str, a: OpcUaAttributes, given: Any, *, output: bool = True) -> Sample:
        method = a.method
        assert method is not None
        try:
            inputs = await self._inputs(name, method, given)
        except OpcUaTypeError as e:
            return Sample(None, None, None, good=False, error=e)
        result = await self.session.call(method.object_id, method.method_id, inputs)
        status = int(result.StatusCode.value)
        what = f"method {method.method_id.to_string()} on {method.object_id.to_string()}"
        for i, arg_status in enumerate(result.InputArgumentResults or []):
            if not arg_status.is_good():
                err = status_error(int(arg_status.value), f"{what} input {i + 1}", device=self.device, resource=name)
                return Sample(None, None, status_tags(int(arg_status.value)), good=False, error=err)
        if is_bad(status):
            err = status_error(status, what, device=self.device, resource=name)
            return Sample(None, None, status_tags(status), good=False, error=err)
        if not output:
            return Sample(True, None, status_tags(status))
        outputs = result.OutputArguments or []
        try:
            value = _output(outputs, a.value_type, status, device=self.device, resource=name)
        except OpcUaTypeError as e:
            return Sample(None, None, status_tags(status), good=False, error=e)
        return Sample(value, None, status_tags(status))

    async def _inputs(self, name: str, method: MethodCall, given: Any) -> list[ua.Variant]:
        args = await self.session.method_arguments(method.method_id)
        if args is None:  # no InputArguments: a SET is only the trigger; a GET sends inputMap as Strings, as EdgeX
            return [] if given is not None else [ua.Variant(t, ua.VariantType.String) for t in method.inputs]
        texts = list(method.inputs) if given is None else _as_texts(given)
        if len(texts) != len(args):
            sig = ", ".join(f"{x.Name}" for x in args) or "none"
            raise OpcUaTypeError(
                f"method {method.method_id.to_string()} takes {len(args)} input(s) ({sig}), got {len(texts)}",
                device=self.device,
                resource=name,
            )
        variants = []
        for text, arg in zip(texts, args, strict=True):
            node_type = await self.session.argument_type(arg)
            variants.append(
                to_variant(
                    _parse_input(text, node_type, arg, self.device, name), node_type, device=self.device, resource=name
                )
            )
        return variants

    # --- subscription --------------------------------------------------------------------------------------

    async def subscribe(self, sink: PushSink) -> None:
        """Monitor the device's monitored resources; the subscription is re-created on every reconnect."""
        if self.monitor is not None:
            return
        resources = [
            MonitoredResource(n, a.node_id, a.monitor, a.value_type)
            for n, a in self.attributes.items()
            if a.monitor is not None and a.node_id is not None
        ]
        unreadable = [n for n in self.link.subscribe if n not in self.attributes and n not in self.invalid]
        if unreadable:
            log.error("Subscribe names unknown resources", extra={"device": self.device, "resources": unreadable})
        self.monitor = DeviceMonitor(
            self.device,
            resources,
            sink,
            publishing_interval=self.link.publishing_interval,
            origin=self.link.timestamp_origin,
        )
        await self.session.add_listener(self.monitor)

    async def unsubscribe(self) -> None:
        """Delete the subscription."""
        monitor, self.monitor = self.monitor, None
        if monitor is not None:
            if self._session is not None:
                self._session.remove_listener(monitor)
                await monitor.delete(self._session)
            await monitor.close()


def _as_texts(given: Any) -> list[str]:
    items = given if isinstance(given, list) else [given]
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _parse_input(text: str, node_type: NodeType, arg: ua.Argument, device: str, resource: str) -> Any:
    vt = value_type_for(node_type.variant_type, node_type.value_rank)
    if vt is None or vt in (ValueType.OBJECT, ValueType.OBJECT_ARRAY, ValueType.BINARY):
        raise OpcUaTypeError(
            f"method input {arg.Name!r} has DataType {node_type.variant_type.name}, which text cannot give",
            device=device,
            resource=resource,
        )
    try:
        return parse_value(vt, text)
    except ValueFormatError as e:
        raise OpcUaTypeError(f"method input {arg.Name!r}: {e.message}", device=device, resource=resource) from None


def _output(outputs: list[ua.Variant], value_type: ValueType, status: int, *, device: str, resource: str) -> Any:
    if not outputs:
        if value_type is ValueType.BOOL:
            return True
        if value_type is ValueType.STRING:
            return str(status_tags(status)["opcuaStatus"])
        raise OpcUaTypeError(
            f"the method returns no output for valueType {value_type}", device=device, resource=resource
        )
    first = outputs[0]
    raw = first.Value if isinstance(first, ua.Variant) else first
    return from_variant(raw, value_type, device=device, resource=resource)


def create_driver(device: Device, profile: DeviceProfile, options: Any) -> OpcUaDriver:
    """Driver factory registered for ``opcua``.

    Raises:
        ProfileConfigError: invalid protocol properties, or a subscribed resource that cannot be monitored.
    """
    if not isinstance(options, OpcUaOptions):
        raise ProfileConfigError("the OPC UA driver was not configured (OPCUA settings)", device=device.name)
    link = parse_link(device.name, device.protocols, options.defaults)
    ok, bad = parse_profile_attributes(profile, device.name, link.subscribe)
    missing = [n for n in link.subscribe if n not in ok and n not in bad]
    if missing and profile.device_resources:  # (device validation may not know the profile yet: no resources)
        raise ProfileConfigError(f"Subscribe names resources the profile lacks: {missing}", device=device.name)
    for name in link.subscribe:
        r = profile.resource(name)
        if r is not None and not readable(r.properties.read_write):
            raise ProfileConfigError(f"Subscribe: {name} is not readable", device=device.name)
    return OpcUaDriver(device.name, link, ok, bad, options)
