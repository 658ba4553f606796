"""The simulator's address space as data: variables and methods (what :class:`~.server.OpcUaSim` serves)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import ua

__all__ = ["Dynamics", "Method", "MethodHandler", "Variable"]

# The first argument is the running OpcUaSim (typed Any: the server module imports this one).
Dynamics = Callable[[Any, float], Awaitable[None] | None]
"""Called every ``dynamics_period`` with the simulator and the seconds since it was created."""
MethodHandler = Callable[[Any, list[Any]], Awaitable[Any] | Any]
"""Called with the simulator and the input values; returns the output Variants (or a StatusCode)."""


@dataclass(frozen=True)
class Variable:
    """One variable of the address space (``key`` is how tests and dynamics name it)."""

    key: str
    node_id: ua.NodeId
    value: Any
    variant_type: ua.VariantType
    folder: str = ""  # "Plant/Mixer1": folders / objects under Objects ("" = Objects itself)
    browse_name: str = ""
    writable: bool = False
    data_type: ua.NodeId | None = None  # a structure DataType (Object resources); else the built-in type
    value_rank: int | None = None  # default: -1 for scalars, 1 for lists
    eu_range: tuple[float, float] | None = None
    units: str = ""
    description: str = ""


@dataclass(frozen=True)
class Method:
    """A method on an object; ``inputs`` / ``outputs`` are (name, built-in type) pairs."""

    key: str
    object_folder: str  # the object the method belongs to, e.g. "Plant/Mixer1"
    node_id: ua.NodeId
    handler: MethodHandler
    inputs: Sequence[tuple[str, ua.VariantType]] = ()
    outputs: Sequence[tuple[str, ua.VariantType]] = ()
    description: str = ""
