"""edgewatch-receiver: the cloud side of sync (deduplicating batch intake, SQLite store, query and live APIs).

``edgewatch.receiver.client`` is the consumer SDK for its API.
"""

from __future__ import annotations

__all__: list[str] = []
