"""Units of measure (EdgeX /uom): a built-in list or a YAML/JSON file, used when Writable.UoM.Validation is on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgewatch.common.contracts.yamlsafe import safe_load

__all__ = ["DEFAULT_UOM", "UnitsOfMeasure"]

DEFAULT_UOM: dict[str, Any] = {
    "Source": "edgewatch built-in list (EdgeX uom.yaml layout)",
    "Units": {
        "temperature": {"Source": "SI", "Values": ["C", "F", "K", "°C", "°F"]},
        "weights": {"Source": "SI", "Values": ["kg", "g", "mg", "lb"]},
        "length": {"Source": "SI", "Values": ["m", "mm", "cm", "km", "in", "ft"]},
        "pressure": {"Source": "SI", "Values": ["Pa", "kPa", "MPa", "bar", "mbar", "psi"]},
        "electric": {"Source": "SI", "Values": ["V", "mV", "A", "mA", "W", "kW", "kWh", "Ohm", "Hz"]},
        "speed": {"Source": "SI", "Values": ["rpm", "m/s", "km/h", "mm/s", "g"]},
        "flow": {"Source": "SI", "Values": ["l/min", "m3/h", "l/s"]},
        "ratio": {"Source": "SI", "Values": ["%", "ppm"]},
        "time": {"Source": "SI", "Values": ["s", "ms", "us", "min", "h"]},
    },
}


class UnitsOfMeasure:
    """The units document served at ``/uom`` and the set of known units."""

    def __init__(self, path: str = "") -> None:
        self.document: dict[str, Any] = DEFAULT_UOM
        if path:
            loaded = safe_load(Path(path).read_bytes())
            if not isinstance(loaded, dict):
                raise ValueError(f"{path}: units-of-measure file must be a mapping with a Units key")
            self.document = loaded
        units = self.document.get("Units") or self.document.get("units") or {}
        self.units: set[str] = {
            str(v)
            for cat in units.values()
            if isinstance(cat, dict)
            for v in (cat.get("Values") or cat.get("values") or [])
        }

    def known(self, unit: str) -> bool:
        """True when ``unit`` is in the list."""
        return unit in self.units
