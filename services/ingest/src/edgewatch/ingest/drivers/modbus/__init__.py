"""Modbus TCP/RTU driver with EdgeX device-modbus attribute semantics and coalesced block reads."""

from __future__ import annotations

__all__: list[str] = []
