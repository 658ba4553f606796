"""OPC UA driver (asyncua): ``properties`` (the device's ``opcua`` protocol block), ``session`` (one session per
endpoint and identity, reconnecting with backoff), ``monitor`` (one subscription per device), ``samples`` (DataValue
-> reading value, origin and StatusCode tags) and ``driver`` (reads, writes, method calls, the factory).

Attribute parsing, the valueType <-> Variant mapping and security live in ``edgewatch.protocols.opcua``.
"""

from __future__ import annotations

__all__: list[str] = []
