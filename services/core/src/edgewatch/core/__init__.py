"""edgewatch.core: EdgeX core-metadata, core-data and core-command REST APIs in one service."""

from __future__ import annotations

__all__: list[str] = []
