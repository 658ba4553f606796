"""The simulator's plant: a batch mixer with dynamics, writable set-points and methods, the Prosys-style
``Simulation`` nodes EdgeX's device-opc-ua examples read (``ns=3;i=1001``..``1007``), and bulk variables for
benchmarks.

Mixer1 (``ns=2;s=Mixer1.<name>``): Speed follows SpeedSetpoint while Running (first-order, 2 s), MotorCurrent,
Vibration and Pressure follow Speed, Temperature is heated towards TemperatureSetpoint, Level fills while running
and each full tank completes a batch (BatchCount, State). Methods on Mixer1: Start(), Stop(), SetSpeed(Speed: Double)
-> Double, StartBatch(Recipe: String, Quantity: UInt32, Temperature: Double) -> UInt32.
"""

from __future__ import annotations

import math
import random
from typing import Any, Final

from asyncua import ua

from edgewatch.sim.opcua.model import Method, Variable

__all__ = ["MIXER", "BulkDynamics", "PlantDynamics", "bulk_variables", "plant_items"]

MIXER: Final = "Plant/Mixer1"
NS_PLANT: Final = 2
NS_SIMULATION: Final = 3
D = ua.VariantType.Double


def _mixer(name: str, value: Any, vt: ua.VariantType = D, **kw: Any) -> Variable:
    node = ua.NodeId(f"Mixer1.{name}", NS_PLANT)
    return Variable(f"Mixer1.{name}", node, value, vt, folder=MIXER, browse_name=name, **kw)


def _simulation(name: str, ident: int, value: Any, vt: ua.VariantType = D) -> Variable:
    return Variable(name, ua.NodeId(ident, NS_SIMULATION), value, vt, folder="Simulation")


async def _start(sim: Any, _args: list[Any]) -> list[ua.Variant]:
    await sim.set_value("Mixer1.Running", True)
    return [ua.Variant(True, ua.VariantType.Boolean)]


async def _stop(sim: Any, _args: list[Any]) -> list[ua.Variant]:
    await sim.set_value("Mixer1.Running", False)
    return [ua.Variant(True, ua.VariantType.Boolean)]


async def _set_speed(sim: Any, args: list[Any]) -> list[ua.Variant]:
    rpm = min(3000.0, max(0.0, float(args[0])))
    await sim.set_value("Mixer1.SpeedSetpoint", rpm)
    return [ua.Variant(rpm, D)]


async def _start_batch(sim: Any, args: list[Any]) -> list[ua.Variant] | ua.StatusCode:
    recipe, quantity, temperature = args
    if not recipe or quantity <= 0:
        return ua.StatusCode(ua.StatusCodes.BadInvalidArgument)
    await sim.set_value("Mixer1.TemperatureSetpoint", float(temperature))
    await sim.set_value("Mixer1.Running", True)
    batch = sum(1 for key, _ in sim.calls if key == "Mixer1.StartBatch")
    return [ua.Variant(batch, ua.VariantType.UInt32)]


def plant_items() -> list[Variable | Method]:
    """The plant's variables and methods."""
    u32, f32, b, s = ua.VariantType.UInt32, ua.VariantType.Float, ua.VariantType.Boolean, ua.VariantType.String
    return [
        _mixer("Running", True, b, writable=True, description="Motor on (write false to stop)"),
        _mixer("SpeedSetpoint", 1200.0, writable=True, eu_range=(0, 3000), units="rpm", description="Speed set-point"),
        _mixer("Speed", 0.0, eu_range=(0, 3000), units="rpm", description="Agitator speed"),
        _mixer("TemperatureSetpoint", 65.0, writable=True, eu_range=(20, 90), units="degC"),
        _mixer("Temperature", 22.0, eu_range=(0, 150), units="degC", description="Product temperature"),
        _mixer("Pressure", 1.0, f32, eu_range=(0, 10), units="bar"),
        _mixer("MotorCurrent", 2.0, f32, eu_range=(0, 50), units="A"),
        _mixer("Vibration", 0.5, eu_range=(0, 20), units="mm/s"),
        _mixer("Level", 40.0, eu_range=(0, 100), units="%"),
        _mixer("BatchCount", 0, u32, description="Completed batches"),
        _mixer("State", "Starting", s),
        _simulation("Constant", 1001, 1.0),
        _simulation("Counter", 1002, 0, ua.VariantType.Int32),
        _simulation("Random", 1003, 0.0),
        _simulation("Sawtooth", 1004, 0.0),
        _simulation("Sinusoid", 1005, 0.0),
        _simulation("Square", 1006, 0.0),
        _simulation("Triangle", 1007, 0.0),
        Method("Mixer1.Start", MIXER, ua.NodeId("Mixer1.Start", NS_PLANT), _start, outputs=[("Started", b)]),
        Method("Mixer1.Stop", MIXER, ua.NodeId("Mixer1.Stop", NS_PLANT), _stop, outputs=[("Stopped", b)]),
        Method(
            "Mixer1.SetSpeed",
            MIXER,
            ua.NodeId("Mixer1.SetSpeed", NS_PLANT),
            _set_speed,
            inputs=[("Speed", D)],
            outputs=[("Setpoint", D)],
        ),
        Method(
            "Mixer1.StartBatch",
            MIXER,
            ua.NodeId("Mixer1.StartBatch", NS_PLANT),
            _start_batch,
            inputs=[("Recipe", s), ("Quantity", u32), ("Temperature", D)],
            outputs=[("BatchId", u32)],
        ),
    ]


class PlantDynamics:
    """Moves the plant one step per call; set-points and Running are read back from the server each step, so
    client writes and method calls take effect."""

    def __init__(self, *, seed: int = 11, wear: float = 0.0) -> None:
        self.rng = random.Random(seed)
        self.wear = wear  # mm/s of extra vibration per hour of running (a developing bearing fault)
        self._last = 0.0
        self._running_for = 0.0

    async def __call__(self, sim: Any, t: float) -> None:
        dt = max(0.0, t - self._last) if self._last else 0.2
        self._last = t
        running = bool(sim.get_value("Mixer1.Running"))
        speed = float(sim.get_value("Mixer1.Speed"))
        target = float(sim.get_value("Mixer1.SpeedSetpoint")) if running else 0.0
        speed += (target - speed) * (1 - math.exp(-dt / 2.0))
        self._running_for += dt if running else 0.0
        n = self.rng.gauss
        load = speed / 3000.0
        temp = float(sim.get_value("Mixer1.Temperature"))
        goal = float(sim.get_value("Mixer1.TemperatureSetpoint")) if running else 22.0
        temp += (goal - temp) * (1 - math.exp(-dt / 20.0)) + 0.5 * load * dt / 20.0
        level = float(sim.get_value("Mixer1.Level")) + (2.0 * dt if running else 0.0)
        if level >= 90.0:
            level = 10.0
            await sim.set_value("Mixer1.BatchCount", int(sim.get_value("Mixer1.BatchCount")) + 1)
        await sim.set_value("Mixer1.Speed", round(max(0.0, speed + n(0, 2.0) * load), 2))
        await sim.set_value("Mixer1.Temperature", round(temp + n(0, 0.05), 3))
        await sim.set_value("Mixer1.Pressure", round(1.0 + 3.0 * load + n(0, 0.02), 3))
        await sim.set_value("Mixer1.MotorCurrent", round(2.0 + 30.0 * load + n(0, 0.1), 2))
        vib = 0.5 + 3.0 * load + self.wear * self._running_for / 3600.0 + abs(n(0, 0.05))
        await sim.set_value("Mixer1.Vibration", round(vib, 3))
        await sim.set_value("Mixer1.Level", round(level, 2))
        status = "Running" if running and speed > 0.9 * target else ("Starting" if running else "Stopped")
        if sim.get_value("Mixer1.State") != status:
            await sim.set_value("Mixer1.State", status)
        await self._simulation(sim, t)

    async def _simulation(self, sim: Any, t: float) -> None:
        if "Counter" not in sim.variables:
            return
        phase = (t % 10.0) / 10.0
        await sim.set_value("Counter", int(t) % 31)
        await sim.set_value("Random", round(self.rng.uniform(-2.0, 2.0), 6))
        await sim.set_value("Sawtooth", round(-2.0 + 4.0 * phase, 6))
        await sim.set_value("Sinusoid", round(2.0 * math.sin(2 * math.pi * phase), 6))
        await sim.set_value("Square", 2.0 if phase < 0.5 else -2.0)
        await sim.set_value("Triangle", round(-2.0 + 8.0 * phase if phase < 0.5 else 6.0 - 8.0 * phase, 6))


def bulk_variables(count: int) -> list[Variable]:
    """``Bulk.R00000``..: ``count`` Double variables (``ns=2;s=Bulk.R<i>``) for load tests, and ``Bulk.Step``
    (``ns=2;s=Bulk.Step``, UInt32): how many times :class:`BulkDynamics` has changed them all."""
    step = Variable(
        "Bulk.Step", ua.NodeId("Bulk.Step", NS_PLANT), 0, ua.VariantType.UInt32, folder="Bulk", browse_name="Step"
    )
    # 100 per folder: asyncua checks every new node against all its siblings, so one flat folder is quadratic
    out = []
    for i in range(count):
        name = f"R{i:05d}"
        node = ua.NodeId(f"Bulk.{name}", NS_PLANT)
        out.append(Variable(f"Bulk.{name}", node, 0.0, D, folder=f"Bulk/G{i // 100:03d}", browse_name=name))
    return [*out, step]


class BulkDynamics:
    """Changes every bulk variable once per call (a new value each time), then counts the step in ``Bulk.Step``."""

    def __init__(self) -> None:
        self.step = 0
        self.keys: list[str] = []

    async def __call__(self, sim: Any, _t: float) -> None:
        if not self.keys:
            self.keys = [k for k in sim.variables if k.startswith("Bulk.R")]
        self.step += 1
        await sim.set_many({k: float(self.step) + i * 1e-3 for i, k in enumerate(self.keys)})
        await sim.set_value("Bulk.Step", self.step)
