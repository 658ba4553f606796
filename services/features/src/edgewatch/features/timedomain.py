"""Re-export: the time-domain statistics live in :mod:`edgewatch.bearing.timedomain` (shared with the CWRU eval)."""

from __future__ import annotations

from edgewatch.bearing.timedomain import TIME_FEATURES, time_features

__all__ = ["TIME_FEATURES", "time_features"]
