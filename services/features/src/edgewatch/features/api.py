"""REST resource of edgewatch-features: per-device feature configuration and pipeline counts (port 59910)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from edgewatch.common.contracts import topics
from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.errors import ContractInvalidError, NotFoundError
from edgewatch.common.service.http import API_PREFIX
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.spec import FeatureConfig
from edgewatch.features.store import ConfigStore, StoredConfig

__all__ = ["ConfigResponse", "MultiConfigResponse", "StatsResponse", "VersionResponse", "features_router"]

PREFIX = f"{API_PREFIX}/features"


class VersionResponse(BaseResponse):
    """Answer to PUT/DELETE: the device and the version now in force."""

    device: str
    version: str


class ConfigResponse(BaseResponse):
    """A device's configuration in force (``isDefault`` when none is stored)."""

    device: str
    version: str
    is_default: bool
    config: dict[str, Any]


class MultiConfigResponse(BaseResponse):
    """Every stored configuration plus the defaults."""

    configs: list[ConfigResponse] = Field(default_factory=list)
    default: dict[str, Any]


class StatsResponse(BaseResponse):
    """Pipeline counts by kind (vectors, windows, duplicate, out_of_order, late, gap, incomplete, skipped_*)."""

    stats: dict[str, int]


def _device(name: str) -> str:
    try:
        topics.feature_vector(name)
    except ValueError as e:
        raise ContractInvalidError(f"device: {e}", field="device") from None
    return name


def _config(item: StoredConfig, is_default: bool) -> ConfigResponse:
    return ConfigResponse(
        status_code=200,
        device=item.device,
        version=item.version,
        is_default=is_default,
        config=item.config.model_dump(mode="json", by_alias=True),
    )


def features_router(store: ConfigStore, pipeline: FeaturePipeline) -> APIRouter:
    """Routes: ``GET|PUT|DELETE /api/v3/features/config/{device}``, ``GET .../config/all``, ``GET .../stats``."""
    router = APIRouter(prefix=PREFIX, tags=["features"])

    @router.get("/config/all", response_model_by_alias=True)
    async def get_all() -> MultiConfigResponse:
        return MultiConfigResponse(
            status_code=200,
            configs=[_config(i, False) for i in store.all()],
            default=store.default.model_dump(mode="json", by_alias=True),
        )

    @router.get("/config/{device}", response_model_by_alias=True)
    async def get_one(device: str) -> ConfigResponse:
        item = store.stored(_device(device))
        return _config(item, False) if item is not None else _config(store.get(device), True)

    @router.put("/config/{device}", response_model_by_alias=True)
    async def put_one(device: str, config: FeatureConfig) -> VersionResponse:
        item = store.put(_device(device), config)
        return VersionResponse(status_code=200, device=device, version=item.version)

    @router.delete("/config/{device}", response_model_by_alias=True)
    async def delete_one(device: str) -> VersionResponse:
        if not store.delete(_device(device)):
            raise NotFoundError(f"device: no feature configuration stored for {device!r}", field="device")
        return VersionResponse(status_code=200, device=device, version=store.get(device).version)

    @router.get("/stats", response_model_by_alias=True)
    async def stats() -> StatsResponse:
        return StatsResponse(status_code=200, stats=dict(sorted(pipeline.stats.items())))

    return router
