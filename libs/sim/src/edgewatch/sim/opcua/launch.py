"""``start_opcua_sim``: declare a simulator (plant, bulk variables, EdgeX profiles, extra items) and start it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.sim.opcua.model import Method, Variable
from edgewatch.sim.opcua.plant import bulk_variables, plant_items
from edgewatch.sim.opcua.server import OpcUaSim

__all__ = ["PLANT_NAMESPACES", "start_opcua_sim"]

PLANT_NAMESPACES = ("urn:edgewatch:sim:plant", "http://www.prosysopc.com/OPCUA/SimulationNodes/")
"""ns=2 holds the plant, ns=3 the Prosys-style Simulation nodes EdgeX's device-opc-ua examples name."""


async def start_opcua_sim(
    *,
    profiles: Iterable[DeviceProfile] = (),
    items: Iterable[Variable | Method] = (),
    plant: bool = False,
    bulk: int = 0,
    **options: Any,
) -> OpcUaSim:
    """A started simulator; ``options`` are :class:`OpcUaSim` fields (host, port, secure, insecure, pki, users,
    anonymous, dynamics, dynamics_period, namespaces)."""
    options.setdefault("namespaces", PLANT_NAMESPACES)
    sim = OpcUaSim(**options)
    if plant:
        sim.add(*plant_items())
    if bulk:
        sim.add(*bulk_variables(bulk))
    for p in profiles:
        sim.add_profile(p)
    sim.add(*items)
    await sim.start()
    return sim
