"""REST routes of core, one module per resource: validate the request, call the domain, map to EdgeX bodies."""

from __future__ import annotations

__all__: list[str] = []
