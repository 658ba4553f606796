"""edgewatch.protocols: the protocol code a device driver (in edgewatch-ingest) and its simulator (edgewatch-sim)
share, one subpackage per protocol (``modbus``; ``opcua`` and ``ethercat`` later).

What belongs here: pure, protocol-level semantics that both sides must agree on: parsing a profile's attributes,
encoding and decoding values on the wire, the EdgeX value transforms (``transform``, protocol-neutral) and the
errors they raise (``errors``). What does not: I/O loops, clients, servers, connection pools, service wiring or
settings. This library depends on edgewatch-common only and never imports a service.
"""

from __future__ import annotations

__all__: list[str] = []
