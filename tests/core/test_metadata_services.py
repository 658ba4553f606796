"""core-metadata device services, provision watchers, /uom and /secret."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.conftest import Core
from tests.core.helpers import device_req, profile_req, service_req


def _pw(name: str = "pw", service: str = "svc", profile: str = "P", **over: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v3",
        "provisionWatcher": {
            "name": name,
            "serviceName": service,
            "identifiers": {"Address": "10\\.0\\..*"},
            "blockingIdentifiers": {"Port": ["9999"]},
            "adminState": "UNLOCKED",
            "discoveredDevice": {"profileName": profile, "adminState": "UNLOCKED", "properties": {"x": 1}},
            **over,
        },
    }


async def test_device_service_add_patch_get_delete(core: Core) -> None:
    r = await core.meta.post(
        "/deviceservice", json=[service_req("a"), service_req("b", labels=["l"]), service_req("a")]
    )
    assert [i["statusCode"] for i in r.json()] == [201, 201, 409]
    r = await core.meta.patch(
        "/deviceservice",
        json=[
            {"apiVersion": "v3", "service": {"name": "a", "baseAddress": "http://h:1", "adminState": "LOCKED"}},
            {"apiVersion": "v3", "service": {"name": "zz", "adminState": "LOCKED"}},
        ],
    )
    assert [i["statusCode"] for i in r.json()] == [200, 404]
    svc = (await core.meta.get("/deviceservice/name/a")).json()["service"]
    assert svc["baseAddress"] == "http://h:1" and svc["adminState"] == "LOCKED"
    assert (await core.meta.get("/deviceservice/all?labels=l")).json()["totalCount"] == 1
    assert (await core.meta.delete("/deviceservice/name/a")).status_code == 200
    assert (await core.meta.get("/deviceservice/name/a")).status_code == 404


@pytest.mark.parametrize(
    "service",
    [
        {"name": "x", "baseAddress": "not-a-uri", "adminState": "UNLOCKED"},
        {"name": "x", "baseAddress": "http://h:1", "adminState": "MAYBE"},
        {"baseAddress": "http://h:1", "adminState": "UNLOCKED"},
    ],
)
async def test_device_service_invalid_element_is_400(core: Core, service: dict[str, Any]) -> None:
    r = await core.meta.post("/deviceservice", json=[{"apiVersion": "v3", "service": service}])
    assert r.status_code == 400


async def test_provision_watcher_lifecycle_and_in_use_checks(core: Core) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    r = await core.meta.post("/provisionwatcher", json=[_pw(), _pw("pw2", service="nosvc"), _pw("pw3", profile="nop")])
    assert [i["statusCode"] for i in r.json()] == [201, 400, 400]
    got = (await core.meta.get("/provisionwatcher/name/pw")).json()["provisionWatcher"]
    assert got["blockingIdentifiers"] == {"Port": ["9999"]} and got["discoveredDevice"]["properties"] == {"x": 1}
    assert (await core.meta.get("/provisionwatcher/service/name/svc")).json()["totalCount"] == 1
    assert (await core.meta.get("/provisionwatcher/profile/name/P")).json()["totalCount"] == 1
    # The openapi spells the key provisionwatcher; Go matches it case-insensitively, so do we.
    lower = {"apiVersion": "v3", "provisionwatcher": {"name": "pw", "labels": ["n"]}}
    assert (await core.meta.patch("/provisionwatcher", json=[lower])).json()[0]["statusCode"] == 200
    assert (await core.meta.get("/provisionwatcher/all?labels=n")).json()["totalCount"] == 1
    assert (await core.meta.delete("/deviceprofile/name/P")).status_code == 409
    assert (await core.meta.delete("/deviceservice/name/svc")).status_code == 409
    assert (await core.meta.delete("/provisionwatcher/name/pw")).status_code == 200
    assert (await core.meta.delete("/provisionwatcher/name/pw")).status_code == 404


async def test_provision_watcher_needs_identifiers(core: Core) -> None:
    r = await core.meta.post("/provisionwatcher", json=[_pw(identifiers={})])
    assert r.status_code == 400 and "identifiers" in r.json()["message"]


async def test_uom_lists_units_and_validation_rejects_unknown_units_when_on(core: Core) -> None:
    body = (await core.meta.get("/uom")).json()
    assert body["statusCode"] == 200 and "C" in body["uom"]["Units"]["temperature"]["Values"]
    toml = await core.meta.get("/uom", headers={"Accept": "application/toml"})
    assert toml.headers["content-type"].startswith("application/toml") and "[Units.temperature]" in toml.text
    core.host.settings.writable.uo_m.validation = True  # type: ignore[attr-defined]
    bad = profile_req("U")
    bad["profile"]["deviceResources"][0]["properties"]["units"] = "furlongs"
    item = (await core.meta.post("/deviceprofile", json=[bad, profile_req("V")])).json()
    assert [i["statusCode"] for i in item] == [400, 201]
    assert "resource 't': properties.units 'furlongs'" in item[0]["message"]


async def test_secret_post_is_201(core: Core) -> None:
    body = {"apiVersion": "v3", "secretName": "db", "secretData": [{"key": "user", "value": "u"}]}
    assert (await core.meta.post("/secret", json=body)).status_code == 201
    assert (await core.meta.post("/secret", json={"apiVersion": "v3"})).status_code == 400


async def test_device_without_a_profile_is_accepted_as_in_edgex_4(core: Core) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    r = await core.meta.post("/device?bypassValidation=true", json=[device_req("d", profile="")])
    assert r.json()[0]["statusCode"] == 201
