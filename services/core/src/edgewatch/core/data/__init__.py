"""core-data: events from the bus and from REST, kept in a bounded JetStream stream and queried over REST."""

from __future__ import annotations

__all__: list[str] = []
