"""REST routes of edgewatch-sync: the upload status ("caught up?") per class."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.service.http import API_PREFIX
from edgewatch.sync.service import SyncService

__all__ = ["sync_router"]


def sync_router(service: SyncService) -> APIRouter:
    """``GET /api/v3/sync/status`` (refreshes the backlog view first)."""
    router = APIRouter()

    @router.get(f"{API_PREFIX}/sync/status")
    async def status() -> dict[str, Any]:
        await service.monitor.refresh()
        return {"apiVersion": API_VERSION, "statusCode": 200, **service.status()}

    return router
