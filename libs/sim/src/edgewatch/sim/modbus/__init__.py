"""Modbus device simulator: ``server`` (a real pymodbus server laid out from an EdgeX device profile), ``demo``
(the demo pump's signals) and ``__main__`` (``python -m edgewatch.sim.modbus``, the CLI that combines them).

Dependencies run one way: ``__main__`` -> ``demo`` -> ``server`` -> edgewatch.protocols.modbus.
"""

from __future__ import annotations

__all__: list[str] = []
