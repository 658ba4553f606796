"""The NATS bus: connection, EdgeX envelope and formats, internal fast codec, JetStream provisioning."""

from __future__ import annotations

from edgewatch.common.bus.client import BusDecodeError, Handler, NatsBus

__all__ = ["BusDecodeError", "Handler", "NatsBus"]
