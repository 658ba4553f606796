"""core-command: device commands over REST and the bus, forwarded to the owning device service."""

from __future__ import annotations

__all__: list[str] = []
