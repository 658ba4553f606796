"""``aggregateFunc`` (EdgeX 4.0) over readings: MIN/MAX/COUNT/SUM/AVG per device, resource and profile."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.reading import Reading

__all__ = ["FUNCS", "aggregate", "parse_func"]

FUNCS = ("MIN", "MAX", "COUNT", "SUM", "AVG")


def parse_func(raw: str | None) -> str | None:
    """The aggregate function (case-insensitive), None when absent.

    Raises:
        ContractInvalidError: not one of MIN, MAX, COUNT, SUM, AVG.
    """
    if raw is None or raw == "":
        return None
    f = raw.upper()
    if f not in FUNCS:
        raise ContractInvalidError(f"aggregateFunc {raw!r} must be one of {', '.join(FUNCS)}", field="aggregateFunc")
    return f


def aggregate(func: str, readings: Iterable[Reading]) -> dict[str, Any]:
    """The ``MultiReadingsResponse`` body: one reading per (device, resource, profile), value a JSON number.

    Integer SUM/MIN/MAX and COUNT come out as Int64, the rest as Float64; a non-numeric group gets ``""``.
    """
    groups: dict[tuple[str, str, str], list[Reading]] = {}
    for r in readings:
        groups.setdefault((r.device_name, r.resource_name, r.profile_name), []).append(r)
    out: list[dict[str, Any]] = []
    for (device, resource, profile), rs in groups.items():
        nums = [n for n in (r.numeric_value() for r in rs) if n is not None]
        value: Any
        vt = "Float64"
        if func == "COUNT":
            value, vt = len(rs), "Int64"
        elif not nums:
            value, vt = "", str(rs[0].value_type)
        elif func == "AVG":
            value = sum(nums) / len(nums)
        else:
            value = min(nums) if func == "MIN" else max(nums) if func == "MAX" else sum(nums)
            if all(isinstance(n, int) for n in nums):
                vt = "Int64"
        out.append(
            {"deviceName": device, "resourceName": resource, "profileName": profile, "valueType": vt, "value": value}
        )
    return {
        "apiVersion": API_VERSION,
        "statusCode": 200,
        "totalCount": len(out),
        "aggregateFunc": func,
        "readings": out,
    }
