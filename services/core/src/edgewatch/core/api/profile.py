"""core-metadata device profile routes (/deviceprofile...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import BaseResponse, BaseWithIdResponse
from edgewatch.common.contracts.errors import LockedError
from edgewatch.common.contracts.profile import (
    AddDeviceProfileRequest,
    DeviceProfile,
    DeviceProfileBasicInfo,
    UpdateDeviceProfileBasicInfoRequest,
    UpdateDeviceProfileRequest,
)
from edgewatch.common.contracts.responses import (
    DeviceProfileResponse,
    MultiDeviceProfileBasicInfoResponse,
    MultiDeviceProfilesResponse,
    ProfileWithCount,
    item_created,
    item_ok,
)
from edgewatch.common.contracts.yamlcompat import load_profile_yaml
from edgewatch.common.contracts.yamlsafe import YamlBudget
from edgewatch.common.service.paging import page_of, parse_labels, parse_page
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.api.body import off_loop_bodies
from edgewatch.core.api.common import json_response, multi_status
from edgewatch.core.metadata.profiles import ProfileRegistry

__all__ = ["profile_router"]

PREFIX = "/api/v3/deviceprofile"


def profile_router(
    profiles: ProfileRegistry, max_count: Callable[[], int], workers: ParseWorkers, budget: Callable[[], YamlBudget]
) -> APIRouter:
    """Profile CRUD, upload and queries; uploaded YAML and large JSON bodies are parsed in a parse worker (YAML
    within the YAML budget)."""
    r = APIRouter(tags=["deviceprofile"], route_class=off_loop_bodies(workers))

    async def parse_upload(file: UploadFile) -> DeviceProfile:
        return await workers.run(load_profile_yaml, await file.read(), budget(), what="profile file")

    def listing(keep: Callable[[DeviceProfile], bool], offset: str | None, limit: str | None) -> JSONResponse:
        page = parse_page(offset, limit, max_count())
        items, total = page_of(profiles.all(), page, keep)
        out = [
            ProfileWithCount(**p.model_dump(), linked_device_count=profiles.linked_device_count(p.name)) for p in items
        ]
        return json_response(MultiDeviceProfilesResponse(total_count=total, profiles=out))

    @r.post(PREFIX, status_code=207)
    async def add_profiles(reqs: list[AddDeviceProfileRequest]) -> JSONResponse:
        async def one(q: AddDeviceProfileRequest) -> dict[str, Any]:
            return item_created(q.request_id, await profiles.add(q.profile))

        return await multi_status(reqs, one)

    @r.put(PREFIX, status_code=207)
    async def update_profiles(reqs: list[UpdateDeviceProfileRequest]) -> JSONResponse:
        if profiles.writable().profile_change.strict_device_profile_changes:
            raise LockedError("profile updates are locked: Writable.ProfileChange.StrictDeviceProfileChanges is true")

        async def one(q: UpdateDeviceProfileRequest) -> dict[str, Any]:
            await profiles.replace(q.profile)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.post(f"{PREFIX}/uploadfile", status_code=201, response_model=BaseWithIdResponse)
    async def upload_profile(file: UploadFile = File(...)) -> JSONResponse:
        p = await parse_upload(file)
        return json_response(BaseWithIdResponse(id=await profiles.add(p)), 201)

    @r.put(f"{PREFIX}/uploadfile", response_model=BaseResponse)
    async def replace_profile_file(file: UploadFile = File(...)) -> JSONResponse:
        p = await parse_upload(file)
        await profiles.replace(p)
        return json_response(BaseResponse())

    @r.get(f"{PREFIX}/all", response_model=MultiDeviceProfilesResponse)
    async def all_profiles(
        offset: str | None = None, limit: str | None = None, labels: str | None = None
    ) -> JSONResponse:
        want = set(parse_labels(labels))
        return listing(lambda p: want.issubset(p.labels or []), offset, limit)

    @r.get(f"{PREFIX}/name/{{name}}", response_model=DeviceProfileResponse)
    async def get_profile(name: str) -> JSONResponse:
        return json_response(DeviceProfileResponse(profile=profiles.get(name)))

    @r.delete(f"{PREFIX}/name/{{name}}", response_model=BaseResponse)
    async def delete_profile(name: str) -> JSONResponse:
        await profiles.delete(name)
        return json_response(BaseResponse())

    @r.get(f"{PREFIX}/manufacturer/{{manufacturer}}", response_model=MultiDeviceProfilesResponse)
    async def by_manufacturer(manufacturer: str, offset: str | None = None, limit: str | None = None) -> JSONResponse:
        return listing(lambda p: p.manufacturer == manufacturer, offset, limit)

    @r.get(f"{PREFIX}/model/{{model}}", response_model=MultiDeviceProfilesResponse)
    async def by_model(model: str, offset: str | None = None, limit: str | None = None) -> JSONResponse:
        return listing(lambda p: p.model == model, offset, limit)

    @r.get(f"{PREFIX}/manufacturer/{{manufacturer}}/model/{{model}}", response_model=MultiDeviceProfilesResponse)
    async def by_manufacturer_model(
        manufacturer: str, model: str, offset: str | None = None, limit: str | None = None
    ) -> JSONResponse:
        return listing(lambda p: p.manufacturer == manufacturer and p.model == model, offset, limit)

    @r.patch(f"{PREFIX}/basicinfo", status_code=207)
    async def patch_basic_info(reqs: list[UpdateDeviceProfileBasicInfoRequest]) -> JSONResponse:
        async def one(q: UpdateDeviceProfileBasicInfoRequest) -> dict[str, Any]:
            await profiles.patch_basic_info(q.basicinfo)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.get(f"{PREFIX}/basicinfo/all", response_model=MultiDeviceProfileBasicInfoResponse)
    async def all_basic_info(
        offset: str | None = None, limit: str | None = Query(None), labels: str | None = None
    ) -> JSONResponse:
        want = set(parse_labels(labels))
        page = parse_page(offset, limit, max_count())
        items, total = page_of(profiles.all(), page, lambda p: want.issubset(p.labels or []))
        infos = [
            DeviceProfileBasicInfo(
                id=p.id,
                name=p.name,
                manufacturer=p.manufacturer,
                description=p.description,
                model=p.model,
                labels=p.labels or [],
            )
            for p in items
        ]
        return json_response(MultiDeviceProfileBasicInfoResponse(total_count=total, profiles=infos))

    return r
