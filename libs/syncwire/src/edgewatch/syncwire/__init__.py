"""edgewatch.syncwire: the sync batch wire format (``batch``) and its columnar event packing (``eventpack``).

Only edgewatch-sync (the edge side) and edgewatch-receiver (the cloud side) speak it, so it lives beside
``edgewatch.common`` rather than in its contracts; it builds on them (EdgeX value formatting, derived ids).
"""

from __future__ import annotations

__all__: list[str] = []
