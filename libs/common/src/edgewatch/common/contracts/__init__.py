"""EdgeX v3/v4 wire contracts (pydantic v2) and the suite's own message models."""

from __future__ import annotations

__all__: list[str] = []
