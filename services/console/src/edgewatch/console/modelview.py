"""The models page's document: per slot the serving, shadow (with each promotion criterion judged) and previous
model, the probation and the threshold override; and the reasons of a refused promotion.

Built from inference's ``GET /model/active`` and ``GET /model/shadow`` (the configured criteria, the recent
events). The criteria are judged here with the service's own rules (``shadow.py``), so the page shows pass or
fail per criterion instead of parsing sentences.
"""

from __future__ import annotations

import asyncio
from typing import Any

from edgewatch.console.upstream import Reply, Upstream

__all__ = ["HISTORY", "build_models", "criteria_checks", "refusal_reasons"]

HISTORY = 12  # the most recent model events the page lists


def criteria_checks(shadow: dict[str, Any], criteria: dict[str, Any]) -> list[dict[str, Any]]:
    """Each promotion criterion of a shadow view: ``{key, label, value, limit, passed}``."""
    vectors = int(shadow.get("vectorsCompared", 0))
    diff = float(shadow.get("alarmRateDiff", 0.0))
    agreement = float(shadow.get("agreement", 0.0))
    checks: list[dict[str, Any]] = [
        {
            "key": "golden",
            "label": "golden vectors",
            "value": "passed" if shadow.get("goldenPassed") else "failed",
            "limit": "all",
            "passed": bool(shadow.get("goldenPassed")),
        }
    ]
    if "shadowMinVectors" in criteria:
        least = int(criteria["shadowMinVectors"])
        checks.append(
            {
                "key": "vectors",
                "label": "vectors compared",
                "value": vectors,
                "limit": f">= {least}",
                "passed": vectors >= least,
            }
        )
    if "shadowMaxAlarmRateDiff" in criteria:
        most = float(criteria["shadowMaxAlarmRateDiff"])
        checks.append(
            {
                "key": "alarmRateDiff",
                "label": "alarm-rate difference",
                "value": diff,
                "limit": f"<= {most:g}",
                "passed": diff <= most,
            }
        )
    if "shadowMinAgreement" in criteria:
        least_agree = float(criteria["shadowMinAgreement"])
        checks.append(
            {
                "key": "agreement",
                "label": "agreement",
                "value": agreement,
                "limit": f">= {least_agree:g}",
                "passed": agreement >= least_agree,
            }
        )
    return checks


def refusal_reasons(message: str) -> list[str]:
    """The failing criteria named by a 409 of ``/model/promote`` (``slot x: not promoted; a; b``)."""
    _, sep, rest = message.partition(": ")
    parts = [p.strip() for p in (rest if sep else message).split("; ")]
    return [p for p in parts if p and p != "not promoted"]


def _by_slot(items: Any) -> dict[str, dict[str, Any]]:
    return {str(i.get("slot", "")): i for i in items or [] if isinstance(i, dict)}


async def build_models(upstream: Upstream, token: str) -> Reply:
    """The page's document, or inference's error when ``/model/active`` fails."""
    active, status = await asyncio.gather(
        upstream.call("inference", "GET", "/model/active", token),
        upstream.call("inference", "GET", "/model/shadow", token),
    )
    if not active.ok or not isinstance(active.body, dict):
        return active
    doc: dict[str, Any] = active.body
    st: dict[str, Any] = status.body if status.ok and isinstance(status.body, dict) else {}
    criteria: dict[str, Any] = st.get("criteria") or {}
    shadows = _by_slot(st.get("shadows", doc.get("shadows")))
    probations = _by_slot(st.get("probations", doc.get("probations")))
    thresholds: dict[str, Any] = doc.get("thresholds") or {}
    slots = []
    for s in doc.get("slots", []):
        key = str(s.get("slot", ""))
        shadow = shadows.get(key)
        if shadow is not None:
            shadow = {**shadow, "checks": criteria_checks(shadow, criteria)}
        device = "" if key == "*" else key
        slots.append({**s, "shadow": shadow, "probation": probations.get(key), "override": thresholds.get(device)})
    return Reply(
        200,
        {
            "slots": slots,
            "thresholds": thresholds,
            "baselineProgress": doc.get("baselineProgress") or {},
            "criteria": criteria,
            "history": list(st.get("history", []))[-HISTORY:][::-1],
            "shadowStatusError": None if status.ok else (status.body or {}).get("message", f"HTTP {status.status}"),
        },
    )
