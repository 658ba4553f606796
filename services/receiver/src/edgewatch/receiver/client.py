"""Consumer SDK for the cloud receiver: paged EdgeX event queries, in-order record reads and a live follow.

::

    async with ReceiverClient("https://cloud:59950", token="...") as rc:
        n = await rc.event_count("pump-1")
        async for rec in rc.follow(DataClass.ALERT):   # replays after ``after``, then waits for new ones
            print(rec["device"], rec["seq"], rec["data"])
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from edgewatch.syncwire.batch import DataClass

__all__ = ["ReceiverClient", "ReceiverClientError"]


class ReceiverClientError(Exception):
    """The receiver answered an error (``status`` and EdgeX ``message``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ReceiverClient:
    """Async client of edgewatch-receiver."""

    def __init__(self, base_url: str, *, token: str = "", timeout: float = 10.0, verify: bool | str = True) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, verify=verify)

    async def __aenter__(self) -> ReceiverClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        resp = await self._http.get(path, params={k: v for k, v in params.items() if v not in (None, "")})
        body: dict[str, Any] = resp.json() if resp.content else {}
        if resp.status_code // 100 != 2:
            raise ReceiverClientError(resp.status_code, str(body.get("message", resp.text[:300])))
        return body

    async def events(self, device: str = "", *, offset: int = 0, limit: int = 20) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, EdgeX events newest first) — all devices, or one."""
        path = f"/api/v3/event/device/name/{device}" if device else "/api/v3/event/all"
        body = await self._get(path, offset=offset, limit=limit)
        return int(body["totalCount"]), list(body["events"])

    async def event_count(self, device: str = "") -> int:
        """EdgeX ``/event/count`` (or per device)."""
        path = f"/api/v3/event/count/device/name/{device}" if device else "/api/v3/event/count"
        return int((await self._get(path))["count"])

    async def items(
        self, cls: DataClass, device: str = "", *, offset: int = 0, limit: int = 20
    ) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, scores/features/alerts newest first)."""
        if cls is DataClass.EVENT:
            raise ValueError("cls: use events() for EdgeX events")
        path = f"/api/v3/{cls.value}/device/name/{device}" if device else f"/api/v3/{cls.value}/all"
        body = await self._get(path, offset=offset, limit=limit)
        return int(body["totalCount"]), list(body[f"{cls.value}s"])

    async def records(
        self, cls: DataClass, *, device: str = "", after: int = 0, limit: int = 100
    ) -> tuple[int, list[dict[str, Any]]]:
        """(cursor, records with id > ``after`` in commit order); pass the cursor back as ``after``."""
        body = await self._get("/api/v3/sync/records", **{"class": cls.value}, device=device, after=after, limit=limit)
        return int(body["last"]), list(body["records"])

    async def follow(self, cls: DataClass, *, device: str = "", after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Records with id > ``after``, then new ones as they are committed (server-sent events)."""
        params = {"class": cls.value, "after": after, **({"device": device} if device else {})}
        async with self._http.stream("GET", "/api/v3/sync/stream", params=params, timeout=None) as resp:
            if resp.status_code // 100 != 2:
                raise ReceiverClientError(resp.status_code, (await resp.aread()).decode(errors="replace")[:300])
            async for line in resp.aiter_lines():
                if line.startswith("data: "):
                    yield json.loads(line[6:])

    async def progress(self) -> list[dict[str, Any]]:
        """Per gateway and class: records held and the last edge stream sequence."""
        return list((await self._get("/api/v3/sync/progress"))["progress"])
