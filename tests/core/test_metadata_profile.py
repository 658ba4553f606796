"""core-metadata device profiles: status codes and body shapes of COMPAT.md sections 1, 2 and 6."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.conftest import Core, core_settings, start_core
from tests.core.helpers import device_req, profile_doc, profile_req, service_req
from tests.support.nats_server import NatsServer
from tests.support.shared import shared_files, shared_mark

PROFILE_FILES = shared_files("edgex", "profiles")


@shared_mark("edgex", "profiles")
async def test_profile_upload_accepts_every_shared_file_and_second_upload_is_409(core: Core) -> None:
    for path in PROFILE_FILES:
        r = await core.meta.post("/deviceprofile/uploadfile", files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 201, (path.name, r.text)
        body = r.json()
        assert body["statusCode"] == 201 and body["apiVersion"] == "v3" and body["id"]
        again = await core.meta.post("/deviceprofile/uploadfile", files={"file": (path.name, path.read_bytes())})
        assert again.status_code == 409 and again.json()["statusCode"] == 409
    r = await core.meta.get("/deviceprofile/all")
    assert r.json()["totalCount"] == len(PROFILE_FILES)


async def test_profile_upload_put_replaces_and_404s_for_unknown(core: Core) -> None:
    path = PROFILE_FILES[0] if PROFILE_FILES else None
    text = path.read_bytes() if path else b"name: X\ndeviceResources: []\n"
    r = await core.meta.put("/deviceprofile/uploadfile", files={"file": ("p.yaml", text)})
    assert r.status_code == 404
    assert (await core.meta.post("/deviceprofile/uploadfile", files={"file": ("p.yaml", text)})).status_code == 201
    r = await core.meta.put("/deviceprofile/uploadfile", files={"file": ("p.yaml", text)})
    assert r.status_code == 200 and r.json() == {"apiVersion": "v3", "statusCode": 200}


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"wrong": ("p.yaml", b"name: x\n")}, "file"),
        ({"file": ("p.yaml", b"name: [unclosed\n")}, "not valid YAML"),
        ({"file": ("p.yaml", b"- a\n- b\n")}, "mapping"),
        (
            {"file": ("p.yaml", b"name: old\ndeviceResources:\n- name: r\n  properties: {value: {type: Float32}}\n")},
            "valueType",
        ),
    ],
)
async def test_profile_upload_bad_file_is_400_naming_the_problem(core: Core, files: dict, needle: str) -> None:
    r = await core.meta.post("/deviceprofile/uploadfile", files=files)
    assert r.status_code == 400
    assert needle in r.json()["message"]


async def test_profile_bulk_post_answers_207_items_in_request_order(core: Core) -> None:
    first = profile_req("A")
    r = await core.meta.post("/deviceprofile", json=[first, profile_req("B"), profile_req("A")])
    assert r.status_code == 207
    items = r.json()
    assert [i["statusCode"] for i in items] == [201, 201, 409]
    assert items[0]["requestId"] == first["requestId"] and items[0]["id"]
    assert "message" not in items[0] and "'A' already exists" in items[2]["message"]


@pytest.mark.parametrize(
    ("profile", "needle"),
    [
        (
            profile_doc("V", deviceResources=[{"name": "x", "properties": {"valueType": "Nope", "readWrite": "R"}}]),
            "Nope",
        ),
        (
            profile_doc(
                "V", deviceCommands=[{"name": "c", "readWrite": "R", "resourceOperations": [{"deviceResource": "zz"}]}]
            ),
            "'zz'",
        ),
        (profile_doc(""), "name"),
        ({"manufacturer": "no name"}, "name"),
    ],
)
async def test_profile_bulk_with_one_invalid_element_fails_whole_request_with_400(
    core: Core, profile: dict, needle: str
) -> None:
    r = await core.meta.post("/deviceprofile", json=[profile_req("OK"), {"apiVersion": "v3", "profile": profile}])
    assert r.status_code == 400
    assert needle in r.json()["message"]
    assert (await core.meta.get("/deviceprofile/name/OK")).status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"[{", b"42", b'{"profile": {}}'])
async def test_profile_malformed_json_is_400_not_500(core: Core, body: bytes) -> None:
    r = await core.meta.post("/deviceprofile", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["statusCode"] == 400


async def test_profile_request_id_must_be_a_uuid(core: Core) -> None:
    r = await core.meta.post("/deviceprofile", json=[{**profile_req(), "requestId": "nope"}])
    assert r.status_code == 400 and "requestId" in r.json()["message"]


async def test_profile_keys_match_case_insensitively_like_go(core: Core) -> None:
    req = {"APIVERSION": "v3", "Profile": {"NAME": "CI", "deviceresources": []}}
    assert (await core.meta.post("/deviceprofile", json=[req])).json()[0]["statusCode"] == 201
    assert (await core.meta.get("/deviceprofile/name/CI")).status_code == 200


async def test_profile_put_replaces_by_name_and_404s_per_item(core: Core) -> None:
    await core.meta.post("/deviceprofile", json=[profile_req("A")])
    before = (await core.meta.get("/deviceprofile/name/A")).json()["profile"]
    upd = {"apiVersion": "v3", "profile": profile_doc("A", manufacturer="Other")}
    r = await core.meta.put("/deviceprofile", json=[upd, {"apiVersion": "v3", "profile": profile_doc("Ghost")}])
    assert r.status_code == 207
    assert [i["statusCode"] for i in r.json()] == [200, 404]
    after = (await core.meta.get("/deviceprofile/name/A")).json()["profile"]
    assert after["manufacturer"] == "Other" and after["id"] == before["id"] and after["created"] == before["created"]


async def test_profile_get_missing_is_404_with_edgex_error_body(core: Core) -> None:
    r = await core.meta.get("/deviceprofile/name/none")
    assert r.status_code == 404
    body = r.json()
    assert body["statusCode"] == 404 and body["apiVersion"] == "v3" and "none" in body["message"]
    assert r.headers["X-Correlation-ID"]


async def test_profile_list_pages_filters_and_answers_416_past_the_end(core: Core) -> None:
    await core.meta.post(
        "/deviceprofile",
        json=[profile_req("A"), profile_req("B", labels=["a"]), profile_req("C", manufacturer="Other", labels=[])],
    )
    r = await core.meta.get("/deviceprofile/all", params={"offset": 1, "limit": 1})
    body = r.json()
    assert body["totalCount"] == 3 and [p["name"] for p in body["profiles"]] == ["B"]
    assert body["profiles"][0]["linkedDeviceCount"] == 0
    assert (await core.meta.get("/deviceprofile/all", params={"labels": "a,b"})).json()["totalCount"] == 1
    assert (await core.meta.get("/deviceprofile/manufacturer/ACME")).json()["totalCount"] == 2
    assert (await core.meta.get("/deviceprofile/model/M1")).json()["totalCount"] == 3
    assert (await core.meta.get("/deviceprofile/manufacturer/Other/model/M1")).json()["totalCount"] == 1
    r = await core.meta.get("/deviceprofile/all", params={"offset": 3})
    assert r.status_code == 200 and r.json()["profiles"] == []
    r = await core.meta.get("/deviceprofile/all", params={"offset": 4})
    assert r.status_code == 416 and r.json()["statusCode"] == 416


@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": -2}, {"limit": 5000}, {"offset": "x"}, {"limit": "1.5"}])
async def test_profile_list_rejects_bad_paging_with_400(core: Core, params: dict) -> None:
    r = await core.meta.get("/deviceprofile/all", params=params)
    assert r.status_code == 400


async def test_profile_delete_in_use_is_409_then_200_once_free(core: Core) -> None:
    await core.meta.post("/deviceservice", json=[service_req()])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1")])
    r = await core.meta.delete("/deviceprofile/name/P")
    assert r.status_code == 409 and "d1" in r.json()["message"]
    listed = (await core.meta.get("/deviceprofile/all")).json()["profiles"][0]
    assert listed["linkedDeviceCount"] == 1
    assert (await core.meta.delete("/device/name/d1")).status_code == 200
    assert (await core.meta.delete("/deviceprofile/name/P")).status_code == 200
    assert (await core.meta.delete("/deviceprofile/name/P")).status_code == 404


async def test_profile_strict_settings_answer_423(nats_server: NatsServer) -> None:
    settings = core_settings(
        nats_server,
        Writable={"ProfileChange": {"StrictDeviceProfileChanges": True, "StrictDeviceProfileDeletes": True}},
    )
    host, c = await start_core(settings)
    try:
        await c.meta.post("/deviceprofile", json=[profile_req("P")])
        assert (await c.meta.put("/deviceprofile", json=[profile_req("P")])).status_code == 423
        assert (await c.meta.delete("/deviceprofile/name/P")).status_code == 423
        assert (await c.meta.delete("/deviceprofile/name/P/resource/t")).status_code == 423
    finally:
        await host.__aexit__(None, None, None)


async def test_profile_basicinfo_patch_changes_only_given_fields(core: Core) -> None:
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    r = await core.meta.patch(
        "/deviceprofile/basicinfo",
        json=[
            {"apiVersion": "v3", "basicinfo": {"name": "P", "model": "M2"}},
            {"apiVersion": "v3", "basicinfo": {"name": "X"}},
        ],
    )
    assert r.status_code == 207 and [i["statusCode"] for i in r.json()] == [200, 404]
    p = (await core.meta.get("/deviceprofile/name/P")).json()["profile"]
    assert p["model"] == "M2" and p["manufacturer"] == "ACME"
    infos = (await core.meta.get("/deviceprofile/basicinfo/all")).json()
    assert infos["totalCount"] == 1 and infos["profiles"][0]["model"] == "M2"
    assert "deviceResources" not in infos["profiles"][0]


async def test_profile_resource_and_command_edits(core: Core) -> None:
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    new_res = {"name": "h", "properties": {"valueType": "Int16", "readWrite": "RW"}}
    r = await core.meta.post(
        "/deviceprofile/resource",
        json=[
            {"apiVersion": "v3", "profileName": "P", "resource": new_res},
            {"apiVersion": "v3", "profileName": "P", "resource": new_res},
            {"apiVersion": "v3", "profileName": "Nope", "resource": new_res},
        ],
    )
    assert [i["statusCode"] for i in r.json()] == [201, 409, 404]
    r = await core.meta.patch(
        "/deviceprofile/resource",
        json=[
            {"apiVersion": "v3", "profileName": "P", "resource": {"name": "h", "description": "d", "isHidden": True}}
        ],
    )
    assert r.json()[0]["statusCode"] == 200
    got = (await core.meta.get("/deviceresource/profile/P/resource/h")).json()["resource"]
    assert got["description"] == "d" and got["isHidden"] is True
    cmd = {"name": "H", "readWrite": "RW", "resourceOperations": [{"deviceResource": "h"}]}
    bad = {"name": "Bad", "readWrite": "W", "resourceOperations": [{"deviceResource": "t"}]}
    r = await core.meta.post(
        "/deviceprofile/deviceCommand",
        json=[
            {"apiVersion": "v3", "profileName": "P", "deviceCommand": cmd},
            {"apiVersion": "v3", "profileName": "P", "deviceCommand": bad},
        ],
    )
    assert [i["statusCode"] for i in r.json()] == [201, 400]
    assert "readWrite 'W' conflicts with resource 't'" in r.json()[1]["message"]
    r = await core.meta.delete("/deviceprofile/name/P/resource/h")
    assert r.status_code == 409 and "deviceCommands ['H']" in r.json()["message"]
    assert (await core.meta.delete("/deviceprofile/name/P/deviceCommand/H")).status_code == 200
    assert (await core.meta.delete("/deviceprofile/name/P/resource/h")).status_code == 200
    assert (await core.meta.get("/deviceresource/profile/P/resource/h")).status_code == 404


async def test_profile_yaml_literal_text_survives_upload(core: Core, tmp_path: Path) -> None:
    text = (
        b"name: L\ndeviceResources:\n- name: a\n  properties: {valueType: float32, readWrite: RW, defaultValue: 0.0}\n"
    )
    assert (await core.meta.post("/deviceprofile/uploadfile", files={"file": ("l.yaml", text)})).status_code == 201
    props = (await core.meta.get("/deviceprofile/name/L")).json()["profile"]["deviceResources"][0]["properties"]
    assert props == {"valueType": "Float32", "readWrite": "RW", "defaultValue": "0.0"}


async def test_profile_tags_patch_merges_tags_and_404s_unknown_names(core: Core) -> None:
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    body = {
        "apiVersion": "v3",
        "deviceResources": [{"name": "t", "tags": {"a": 1}}],
        "deviceCommands": [{"name": "Both", "tags": {"b": {"c": "d"}}}],
    }
    r = await core.meta.patch("/deviceprofile/name/P/tags", json=body)
    assert r.status_code == 200 and r.json()["statusCode"] == 200
    r = await core.meta.patch("/deviceprofile/name/P/tags", json={"deviceResources": [{"name": "t", "tags": {"e": 2}}]})
    p = (await core.meta.get("/deviceprofile/name/P")).json()["profile"]
    assert p["deviceResources"][0]["tags"] == {"a": 1, "e": 2}
    assert p["deviceCommands"][0]["tags"] == {"b": {"c": "d"}}
    r = await core.meta.patch("/deviceprofile/name/P/tags", json={"deviceResources": [{"name": "zz", "tags": {}}]})
    assert r.status_code == 404 and "'zz'" in r.json()["message"]
