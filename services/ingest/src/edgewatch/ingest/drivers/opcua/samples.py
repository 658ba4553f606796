"""An OPC UA DataValue as a reading: the value in the resource's valueType, its origin and its StatusCode tags.

Origin (``TimestampOrigin``): ``source`` = the SourceTimestamp (when the device sampled it), else the
ServerTimestamp, else the gateway clock; ``server`` = the ServerTimestamp, else the gateway clock; ``gateway`` =
the gateway clock when the event is built (what EdgeX device-opc-ua does). A Bad StatusCode never yields a value:
node refusals (unknown node, not readable...) become errors, data-quality Bad becomes a null reading with its tags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from asyncua import ua

from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.ingest.drivers.base import Sample
from edgewatch.protocols.opcua.datatypes import from_variant, to_unix_ns
from edgewatch.protocols.opcua.errors import OpcUaStatusError, OpcUaTypeError
from edgewatch.protocols.opcua.status import error_kind, is_bad, is_node_error, status_tags, status_text

__all__ = ["ORIGINS", "Origin", "origin_of", "sample_of", "status_error"]

Origin = Literal["source", "server", "gateway"]
ORIGINS: Final[tuple[Origin, ...]] = ("source", "server", "gateway")


def origin_of(dv: ua.DataValue, mode: Origin) -> int | None:
    """The reading origin in Unix ns (None: the gateway clock)."""
    stamp: datetime | None = None
    if mode == "source":
        stamp = dv.SourceTimestamp or dv.ServerTimestamp
    elif mode == "server":
        stamp = dv.ServerTimestamp
    return to_unix_ns(stamp) if stamp is not None else None


def status_error(status: int, what: str, *, device: str, resource: str) -> OpcUaStatusError:
    """The EdgeX error for a node the server refused (``what``: "node ns=2;s=X" or "method ...")."""
    return OpcUaStatusError(
        f"{what}: {status_text(status)}", status=status, kind=error_kind(status), device=device, resource=resource
    )


def sample_of(
    dv: ua.DataValue, value_type: ValueType, mode: Origin, *, device: str, resource: str, node: str
) -> Sample:
    """The Sample of one DataValue read from (or pushed by) ``node``."""
    status = int(dv.StatusCode.value) if dv.StatusCode is not None else 0
    origin = origin_of(dv, mode)
    tags = status_tags(status)
    if is_bad(status):
        if is_node_error(status):
            err = status_error(status, f"node {node}", device=device, resource=resource)
            return Sample(None, origin, tags, good=False, error=err)
        return Sample(None, origin, tags, good=False)
    raw = dv.Value.Value if dv.Value is not None else None
    if raw is None:
        return Sample(None, origin, tags, good=False)
    try:
        value = from_variant(raw, value_type, device=device, resource=resource)
    except OpcUaTypeError as e:
        return Sample(None, origin, tags, good=False, error=e)
    return Sample(value, origin, tags)
