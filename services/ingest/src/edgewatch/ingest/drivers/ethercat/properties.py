"""A device's ``ethercat`` protocol properties: the line (interface, cycle time), the slave and its identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from edgewatch.protocols.errors import ProfileConfigError

__all__ = ["PROTOCOL", "EtherCatLink", "parse_link"]

PROTOCOL: Final = "ethercat"
_KNOWN: Final = {"Interface", "CycleTime", "Position", "Alias", "VendorId", "ProductCode"}


@dataclass(frozen=True, slots=True)
class EtherCatLink:
    """Where a device's slave is: ``position`` (1-based) or station ``alias``, and what it must be."""

    interface: str
    cycle_us: int = 1000
    position: int | None = None
    alias: int | None = None
    vendor_id: int | None = None
    product_code: int | None = None

    @property
    def slave(self) -> str:
        """``position 2`` / ``alias 0x0100``."""
        return f"position {self.position}" if self.position is not None else f"alias 0x{self.alias or 0:04X}"


def _number(props: Mapping[str, Any], key: str, device: str, lo: int, hi: int) -> int | None:
    raw = props.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw, 0) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise ProfileConfigError(f"protocol property {key} {raw!r} is not an integer", device=device) from None
    if not lo <= value <= hi:
        raise ProfileConfigError(f"protocol property {key} {raw!r} must be in [{lo}, {hi}]", device=device)
    return value


def parse_link(device: str, protocols: Mapping[str, Mapping[str, Any]]) -> EtherCatLink:
    """Parse the ``ethercat`` protocol block.

    Raises:
        ProfileConfigError: a missing, unknown or invalid property; the message names the device and the key.
    """
    props = protocols.get(PROTOCOL)
    if props is None:
        raise ProfileConfigError("no ethercat protocol", device=device)
    unknown = sorted(set(props) - _KNOWN)
    if unknown:
        raise ProfileConfigError(f"unknown ethercat protocol properties {unknown}", device=device)
    iface = str(props.get("Interface") or "")
    if not iface or len(iface) > 15 or "/" in iface:
        raise ProfileConfigError(f"protocol property Interface {iface!r} must name a network interface", device=device)
    cycle = _number(props, "CycleTime", device, 100, 1_000_000) or 1000
    position = _number(props, "Position", device, 1, 65535)
    alias = _number(props, "Alias", device, 1, 0xFFFF)
    if (position is None) == (alias is None):
        raise ProfileConfigError("give the slave by Position (1-based) or by Alias, exactly one", device=device)
    vendor = _number(props, "VendorId", device, 0, 0xFFFFFFFF)
    product = _number(props, "ProductCode", device, 0, 0xFFFFFFFF)
    return EtherCatLink(iface, cycle, position, alias, vendor, product)
