"""EtherCAT code shared by the ingest driver and the slave emulator.

``codec`` (EdgeX valueType <-> bits of a process image, CoE data types), ``pdo`` (PDO entries and the bit layout of
a slave's process image), ``sii`` (the slave information interface image: building it for the emulator, reading
its categories for the master), ``attributes`` (EdgeX resource attributes of the ``ethercat`` protocol), ``state``
(AL states and status codes), ``soemadapter`` (pysoem behind one module), ``master`` (the cyclic master: process
data thread, state supervision, SDO access) and ``jitter`` (cycle statistics).
"""

from __future__ import annotations

__all__: list[str] = []
