"""The overview: service health, devices and their UP/DOWN state, open alerts, sync backlog and uplink state."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from edgewatch.console.live import LiveHub
from edgewatch.console.upstream import Reply, Upstream

__all__ = ["build_overview", "field_errors"]

_LOC = re.compile(r"^(?:body\.)?([A-Za-z0-9_.\[\]-]+):\s*(.*)$", re.S)


def field_errors(message: str) -> list[dict[str, str]]:
    """An EdgeX error message split into ``{field, message}`` items (``body.condition.threshold: ...``)."""
    out = []
    for part in filter(None, (p.strip() for p in message.split("; "))):
        m = _LOC.match(part)
        out.append({"field": m.group(1), "message": m.group(2)} if m else {"field": "", "message": part})
    return out


def _open_alerts(rules: Reply) -> list[dict[str, Any]]:
    """(rule, device) pairs whose alert state is raised now."""
    if not rules.ok:
        return []
    out = []
    for item in rules.body.get("rules", []):
        st = item.get("status", {})
        for device, d in st.get("devices", {}).items():
            if d.get("alertState") == "raised":
                out.append(
                    {
                        "rule": st.get("name", ""),
                        "device": device,
                        "severity": item.get("rule", {}).get("severity", ""),
                        "lastValue": d.get("lastValue"),
                        "stale": d.get("stale", False),
                    }
                )
    return out


def _devices(devs: Reply, hub: LiveHub) -> list[dict[str, Any]]:
    if not devs.ok:
        return []
    out = []
    for d in devs.body.get("devices", []):
        name = d.get("name", "")
        score = hub.latest_score.get(name)
        out.append(
            {
                "name": name,
                "profile": d.get("profileName", ""),
                "service": d.get("serviceName", ""),
                "operatingState": d.get("operatingState", ""),
                "adminState": d.get("adminState", ""),
                "lastScore": score,
            }
        )
    return out


async def build_overview(upstream: Upstream, hub: LiveHub, token: str) -> dict[str, Any]:
    """Everything the overview page shows, fetched concurrently; an unreachable service shows as such."""
    health, devs, rules, sync = await asyncio.gather(
        upstream.health(),
        upstream.call("core-metadata", "GET", "/device/all?limit=-1", token),
        upstream.call("rules", "GET", "/rule", token),
        upstream.call("sync", "GET", "/sync/status", token),
    )
    return {
        "services": health,
        "devices": _devices(devs, hub),
        "devicesError": "" if devs.ok else str(devs.body.get("message", "")),
        "openAlerts": _open_alerts(rules),
        "sync": sync.body if sync.ok else {"error": str(sync.body.get("message", "")), "status": sync.status},
        "live": {"pages": hub.listener_count, "devicesOnBus": hub.devices()},
    }
