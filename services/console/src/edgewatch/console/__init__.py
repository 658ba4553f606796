"""edgewatch.console service: the operator web console."""

from __future__ import annotations

__all__: list[str] = []
