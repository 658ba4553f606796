"""Device definitions: from local files (ProfilesDir / DevicesDir) and, when configured, from core-metadata.

With core-metadata configured, startup follows the device SDK: register the device service (GET, then POST or
PATCH baseAddress), POST the local profiles and devices (409 = already there), then load this service's devices
(paged) and their profiles. Calls are retried with backoff until core answers. Operating-state changes are
PATCHed back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.yamlcompat import load_device_definitions, load_profile_yaml

__all__ = ["MetadataClient", "MetadataError", "load_local"]

log = logging.getLogger(__name__)
API = "/api/v3"


class MetadataError(EdgeXError):
    """core-metadata answered with an unexpected status."""


def _files(directory: str, patterns: Sequence[str] = ("*.yaml", "*.yml", "*.json")) -> list[Path]:
    d = Path(directory)
    if not directory or not d.is_dir():
        return []
    return sorted(p for pat in patterns for p in d.glob(pat))


def load_local(profiles_dir: str, devices_dir: str, service: str) -> tuple[list[DeviceProfile], list[Device]]:
    """Profiles and devices from the local definition directories (a bad file is logged and skipped)."""
    profiles: list[DeviceProfile] = []
    for p in _files(profiles_dir):
        try:
            profiles.append(load_profile_yaml(p.read_text(encoding="utf-8")))
        except EdgeXError as e:
            log.error("profile file skipped", extra={"file": str(p), "error": e.message})
    devices: list[Device] = []
    for p in _files(devices_dir):
        try:
            devices.extend(d for d in load_device_definitions(p, service_name=service) if d.service_name == service)
        except EdgeXError as e:
            log.error("device file skipped", extra={"file": str(p), "error": e.message})
    return profiles, devices


class MetadataClient:
    """The calls a device service makes to core-metadata."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, token: str = "") -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=headers)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: Any = None, ok: Sequence[int] = (200,)) -> Any:
        resp = await self.http.request(method, API + path, json=body)
        if resp.status_code not in ok:
            raise MetadataError(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    async def register_service(self, name: str, base_address: str) -> None:
        """Create the device service, or PATCH its baseAddress when it exists."""
        resp = await self.http.get(f"{API}/deviceservice/name/{name}")
        if resp.status_code == 404:
            item = {
                "apiVersion": "v3",
                "service": {"name": name, "baseAddress": base_address, "adminState": "UNLOCKED"},
            }
            out = await self._call("POST", "/deviceservice", [item], ok=(207, 201))
            _check_items(out, "POST /deviceservice")
        elif resp.status_code == 200:
            item = {"apiVersion": "v3", "service": {"name": name, "baseAddress": base_address}}
            out = await self._call("PATCH", "/deviceservice", [item], ok=(207, 200))
            _check_items(out, "PATCH /deviceservice")
        else:
            raise MetadataError(f"GET /deviceservice/name/{name}: {resp.status_code}")

    async def add_profiles(self, profiles: Sequence[DeviceProfile]) -> None:
        """POST profiles; 409 (already there) is fine."""
        if profiles:
            body = [{"apiVersion": "v3", "profile": p.to_dict()} for p in profiles]
            _check_items(await self._call("POST", "/deviceprofile", body, ok=(207,)), "POST /deviceprofile")

    async def add_devices(self, devices: Sequence[Device]) -> None:
        """POST devices; 409 (already there) is fine."""
        if devices:
            body = [{"apiVersion": "v3", "device": d.to_dict()} for d in devices]
            _check_items(await self._call("POST", "/device", body, ok=(207,)), "POST /device")

    async def devices_of(self, service: str, page: int = 100) -> list[Device]:
        """Every device owned by ``service`` (paged)."""
        out: list[Device] = []
        offset = 0
        while True:
            doc = await self._call("GET", f"/device/service/name/{service}?offset={offset}&limit={page}")
            items = doc.get("devices") or []
            out.extend(Device.model_validate(d) for d in items)
            offset += len(items)
            if not items or offset >= int(doc.get("totalCount", 0)):
                return out

    async def profile(self, name: str) -> DeviceProfile:
        """One profile by name."""
        doc = await self._call("GET", f"/deviceprofile/name/{name}")
        return DeviceProfile.model_validate(doc["profile"])

    async def set_operating_state(self, device: str, state: str) -> None:
        """PATCH a device's operatingState (UP/DOWN)."""
        body = [{"apiVersion": "v3", "device": {"name": device, "operatingState": state}}]
        _check_items(await self._call("PATCH", "/device", body, ok=(207, 200)), "PATCH /device")

    async def retry(self, what: str, fn: Any, *args: Any, initial: float = 0.2, maximum: float = 5.0) -> Any:
        """Call ``fn(*args)`` until it succeeds (core not up yet, connection refused), with backoff."""
        delay = initial
        while True:
            try:
                return await fn(*args)
            except (httpx.HTTPError, MetadataError) as e:
                log.warning("core-metadata not ready", extra={"call": what, "error": str(e)[:200]})
                await asyncio.sleep(delay)
                delay = min(maximum, delay * 2)


def _check_items(out: Any, what: str) -> None:
    """A 207 array: 2xx and 409 items are fine, anything else is logged."""
    for item in out if isinstance(out, list) else []:
        code = int(item.get("statusCode", 0))
        if code >= 300 and code != 409:
            log.error(
                "core-metadata refused an item", extra={"call": what, "status": code, "error": item.get("message")}
            )
