"""Demo pump signals for the Modbus simulator.

Vibration creeps up while the pump runs and drops once the PumpStop coil is written true (what the rules service
does when the anomaly score crosses its threshold).
"""

from __future__ import annotations

import math
import random

from edgewatch.sim.modbus.server import ModbusSim

__all__ = ["PumpDynamics"]


class PumpDynamics:
    """Drive Vibration / Temperature / Pressure / Current of a demo-pump profile from elapsed time.

    Running: vibration rises from ``base`` by ``rise`` mm/s per second (a developing bearing fault) with noise.
    After PumpStop is true: vibration, current and pressure decay towards zero; writing PumpStop false restarts
    the pump with a healthy bearing.
    """

    def __init__(self, *, base: float = 2.0, rise: float = 0.05, seed: int = 7) -> None:
        self.base = base
        self.rise = rise
        self.rng = random.Random(seed)
        self._fault_since = 0.0
        self._was_stopped = False

    def _set(self, sim: ModbusSim, name: str, value: float) -> None:
        if name in sim.resources:
            sim.set_value(name, value)

    def __call__(self, sim: ModbusSim, t: float) -> None:
        stopped = "PumpStop" in sim.resources and bool(sim.get_value("PumpStop"))
        if self._was_stopped and not stopped:
            self._fault_since = t
        self._was_stopped = stopped
        noise = self.rng.gauss(0.0, 0.05)
        if stopped:
            self._set(sim, "Vibration", max(0.0, 0.1 + noise * 0.2))
            self._set(sim, "Current", 0.0)
            self._set(sim, "Pressure", 0.0)
            self._set(sim, "Temperature", 25.0 + noise)
            return
        age = t - self._fault_since
        wobble = 0.2 * math.sin(2 * math.pi * 0.5 * t)
        self._set(sim, "Vibration", self.base + self.rise * age + wobble + noise)
        self._set(sim, "Current", 12.0 + 0.02 * age + noise)
        self._set(sim, "Pressure", 4.0 + 0.1 * math.sin(2 * math.pi * 0.1 * t) + noise * 0.1)
        self._set(sim, "Temperature", min(90.0, 40.0 + 0.05 * age) + noise)
