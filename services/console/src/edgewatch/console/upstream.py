"""Calls to the other services' REST APIs with the operator's token (the console holds no rights of its own)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from edgewatch.console.config import UpstreamSection

__all__ = ["Reply", "Upstream"]


@dataclass(frozen=True)
class Reply:
    """An upstream answer: HTTP status (0 = unreachable) and the JSON body (or an EdgeX-style error body)."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Upstream:
    """One pooled HTTP client for every service the console reads."""

    def __init__(self, cfg: UpstreamSection) -> None:
        self.cfg = cfg
        self.urls = cfg.services()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.cfg.timeout)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("Upstream used before start()")
        return self._client

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Reply:
        """``method`` ``/api/v3<path>`` on ``service`` with the bearer token; never raises for HTTP failures."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"{self.urls[service]}/api/v3{path}"
        try:
            r = await self.client.request(method, url, headers=headers, json=json, files=files)
        except httpx.TimeoutException:
            return Reply(504, {"statusCode": 504, "message": f"{service} did not answer within {self.cfg.timeout:g} s"})
        except httpx.HTTPError as e:
            return Reply(0, {"statusCode": 502, "message": f"{service} unreachable: {type(e).__name__}"})
        try:
            body = r.json()
        except ValueError:
            body = {"statusCode": r.status_code, "message": r.text[:500]}
        return Reply(r.status_code, body)

    async def health(self) -> dict[str, dict[str, Any]]:
        """Every service's open health document (no token needed), fetched concurrently."""

        async def one(name: str) -> tuple[str, dict[str, Any]]:
            r = await self.call(name, "GET", "/health", "")
            doc = r.body if isinstance(r.body, dict) else {}
            return name, {"up": r.status != 0, "healthy": r.status == 200, "detail": doc}

        return dict(await asyncio.gather(*(one(n) for n in self.urls)))
