"""Rolling-bearing defect frequencies (BPFO, BPFI, BSF, FTF) from the bearing geometry and the shaft speed."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FAULTS", "BearingGeometry", "fault_multipliers"]

FAULTS: tuple[str, ...] = ("bpfo", "bpfi", "bsf", "ftf")
"""Feature order of the four defect frequencies (outer race, inner race, ball spin, cage)."""


@dataclass(frozen=True, slots=True)
class BearingGeometry:
    """Bearing geometry: ``balls`` rolling elements of diameter ``ball_diameter`` on ``pitch_diameter``.

    Diameters share any unit (only their ratio matters); ``contact_angle_deg`` is 0 for deep-groove bearings.
    """

    balls: int
    ball_diameter: float
    pitch_diameter: float
    contact_angle_deg: float = 0.0


def fault_multipliers(g: BearingGeometry) -> tuple[float, float, float, float]:
    """Defect frequencies as multiples of the shaft frequency ``f_r``, in :data:`FAULTS` order.

    With ``r = d/D·cos(φ)`` (MDPI Appl. Sci. 2020 10(20) 7302, eqs. 1-4):
    BPFO = Z/2·(1-r), BPFI = Z/2·(1+r), BSF = D/(2d)·(1-r²), FTF = (1-r)/2.
    CWRU's "rolling element" frequency is 2·BSF (the ball hits both races once per spin).

    Returns:
        ``(bpfo, bpfi, bsf, ftf)`` multipliers; multiply by the shaft frequency in Hz.
    """
    r = g.ball_diameter / g.pitch_diameter * math.cos(math.radians(g.contact_angle_deg))
    z = float(g.balls)
    bpfo = z / 2.0 * (1.0 - r)
    bpfi = z / 2.0 * (1.0 + r)
    bsf = g.pitch_diameter / (2.0 * g.ball_diameter) * (1.0 - r * r)
    ftf = (1.0 - r) / 2.0
    return bpfo, bpfi, bsf, ftf
