"""Deterministic EdgeX ids: name-based UUIDs (version 5) derived from fields every event carries anyway.

An event's id is ``uuid5(EDGEWATCH_NAMESPACE, "<device>/<source>/<origin>")``, reading ``i`` (0-based, in event
order) has ``uuid5(ns, "<event id>/<i>")`` and the AddEventRequest's requestId is ``uuid5(ns, "<event id>/request")``.
They are valid UUIDs, unique per (device, source, origin) -- a second event with the same three is a duplicate
anyway (core-data answers 409) -- and cost no bytes on the uplink: sync's event codec re-derives them.

:func:`random_uuid` is ``str(uuid.uuid4())`` without the UUID object, for fresh ids on hot paths (a command's
requestID on the way from an event to a SET).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Final

__all__ = ["EDGEWATCH_NAMESPACE", "event_id_for", "name_uuid", "random_uuid", "reading_id_for", "request_id_for"]

EDGEWATCH_NAMESPACE: Final = uuid.UUID("6f1f3a52-8c1e-5d4b-9a0e-0e3d2c7b1a55")
_NS: Final = EDGEWATCH_NAMESPACE.bytes
_VARIANT: Final = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant bits 10xx


def name_uuid(name: str) -> str:
    """``str(uuid.uuid5(EDGEWATCH_NAMESPACE, name))`` without the UUID object (a hot path for ingest and sync)."""
    x = hashlib.sha1(_NS + name.encode()).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


def random_uuid() -> str:
    """A random (version 4) UUID string, as ``str(uuid.uuid4())`` makes it, at half the cost."""
    x = os.urandom(16).hex()
    return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


def event_id_for(device: str, source: str, origin: int) -> str:
    """The event id of ``device``'s ``source`` event at ``origin`` (ns)."""
    return name_uuid(f"{device}/{source}/{origin}")


def reading_id_for(event_id: str, index: int) -> str:
    """The id of the ``index``-th (0-based) reading of event ``event_id``."""
    return name_uuid(f"{event_id}/{index}")


def request_id_for(event_id: str) -> str:
    """The requestId of the AddEventRequest that carries event ``event_id``."""
    return name_uuid(f"{event_id}/request")
