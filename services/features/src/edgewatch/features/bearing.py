"""Re-export: the defect-frequency code lives in :mod:`edgewatch.bearing.geometry` (shared with the CWRU eval)."""

from __future__ import annotations

from edgewatch.bearing.geometry import FAULTS, BearingGeometry, fault_multipliers

__all__ = ["FAULTS", "BearingGeometry", "fault_multipliers"]
