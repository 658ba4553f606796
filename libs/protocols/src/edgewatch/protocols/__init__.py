"""edgewatch.protocols: the protocol code a device driver (in edgewatch-ingest) and its simulator (edgewatch-sim)
share, one subpackage per protocol (``modbus``, ``opcua``, ``ethercat``).

What belongs here: pure, protocol-level semantics that both sides must agree on: parsing a profile's attributes,
encoding and decoding values on the wire, the EdgeX value transforms (``transform``, protocol-neutral) and the
errors they raise (``errors``). What does not: service wiring or settings; I/O only where two callers need the same
behaviour (``opcua.client`` / ``opcua.browse``; the EtherCAT master in ``ethercat.master`` / ``ethercat.remote``,
used by ingest and ``bench/ethercat.py``). This library never imports a service.
"""

from __future__ import annotations

__all__: list[str] = []
