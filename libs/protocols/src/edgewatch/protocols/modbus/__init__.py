"""Modbus register layout shared by the ingest driver and the simulator: EdgeX device-modbus attributes
(``attributes``) and the register/bit <-> value codec (``codec``)."""

from __future__ import annotations

__all__: list[str] = []
