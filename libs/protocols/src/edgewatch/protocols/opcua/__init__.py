"""OPC UA code shared by the ingest driver, its simulator and the ``edgewatch opcua browse`` command.

``nodeid`` (EdgeX ``nodeId`` strings), ``attributes`` (EdgeX device-opc-ua resource attributes plus the monitored-
item attributes), ``datatypes`` (EdgeX valueType <-> OPC UA DataType / Variant), ``status`` (StatusCode names,
reading tags and EdgeX error kinds), ``security`` (policy names, the client's PKI folder and its trust list),
``client`` (opening a secured asyncua client), ``browse`` (walking a server and writing an EdgeX device profile)
and ``errors``.
"""

from __future__ import annotations

__all__: list[str] = []
