"""The benches' stand-in EdgeX device service, registered with core-metadata over REST (shared by the benches)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

__all__ = ["register_device_service"]


async def register_device_service(
    meta: httpx.AsyncClient, service: str, profile: dict[str, Any], devices: Iterable[str]
) -> None:
    """Register device service ``service`` (no base address: commands reach it over the bus), ``profile`` and
    ``devices`` of that profile (UNLOCKED, UP) with core-metadata; every element must be created (201)."""
    svc = {"name": service, "baseAddress": "http://127.0.0.1:1", "adminState": "UNLOCKED"}
    (await meta.post("/deviceservice", json=[{"apiVersion": "v3", "service": svc}])).raise_for_status()
    (await meta.post("/deviceprofile", json=[{"apiVersion": "v3", "profile": profile}])).raise_for_status()
    body = [
        {
            "apiVersion": "v3",
            "device": {
                "name": d,
                "serviceName": service,
                "profileName": profile["name"],
                "adminState": "UNLOCKED",
                "operatingState": "UP",
                "protocols": {"other": {"Address": "bench"}},
            },
        }
        for d in devices
    ]
    r = await meta.post("/device", params={"bypassValidation": "true"}, json=body)
    r.raise_for_status()
    assert all(x["statusCode"] == 201 for x in r.json()), r.text
