"""edgewatch.common: the shared library (EdgeX contracts, NATS bus, service skeleton)."""

from __future__ import annotations

__all__: list[str] = []
