"""core's limits: profile uploads (alias bombs 400, oversize 413), JSON depth, events (MaxEventSize, depth, large
ones decoded in a parse worker), bus commands with over-deep bodies, Core.Apis, refusals counted in metrics."""

from __future__ import annotations

import json
import uuid

import cbor2
import psutil
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.core.app import build_app
from tests.core.conftest import Core, core_settings, start_core, stop_core
from tests.core.helpers import device_req, event_doc, profile_req, service_req
from tests.support.hostile import alias_bomb, large_profile, merge_bomb
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until

MB = 1024 * 1024


def _refusals(core: Core, limit: str) -> float:
    value = core.host.metrics.registry.get_sample_value("edgewatch_limit_refusals_total", {"limit": limit})
    return value or 0.0


async def test_alias_and_merge_bomb_uploads_are_400_naming_the_alias_budget(core: Core) -> None:
    for text in (alias_bomb(pad=12), merge_bomb().replace("m0:", "name: merged\nm0:")):
        for method in (core.meta.post, core.meta.put):
            r = await method("/deviceprofile/uploadfile", files={"file": ("bomb.yaml", text)})
            assert r.status_code == 400, r.text
            assert r.json()["statusCode"] == 400 and "Service.MaxYamlAliasNodes" in r.json()["message"]
    assert _refusals(core, "MaxYamlAliasNodes") == 4
    assert (await core.meta.get("/deviceprofile/all")).json()["totalCount"] == 0


async def test_profile_upload_over_max_request_size_is_413_and_a_normal_one_still_loads(core: Core) -> None:
    r = await core.meta.post("/deviceprofile/uploadfile", files={"file": ("huge.yaml", large_profile(30 * MB))})
    assert r.status_code == 413 and "Service.MaxRequestSize" in r.json()["message"]
    assert _refusals(core, "MaxRequestSize") == 1
    ok = "name: small\ndeviceResources:\n  - {name: t, properties: {valueType: Int16, readWrite: R}}\n"
    assert (await core.meta.post("/deviceprofile/uploadfile", files={"file": ("p.yaml", ok)})).status_code == 201


async def test_profile_upload_nested_deeper_than_the_budget_is_400(core: Core) -> None:
    text = "name: deep\nlabels: " + "[" * 40 + "]" * 40 + "\n"
    r = await core.meta.post("/deviceprofile/uploadfile", files={"file": ("p.yaml", text)})
    assert r.status_code == 400 and "Service.MaxDocumentDepth" in r.json()["message"]


async def test_device_post_with_attributes_nested_too_deep_is_400_before_validation(core: Core) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    deep: object = "x"
    for _ in range(40):
        deep = {"k": deep}
    r = await core.meta.post("/device?bypassValidation=true", json=[device_req("d1", protocols={"p": deep})])
    assert r.status_code == 400 and "MaxDocumentDepth" in r.json()["message"]
    assert (await core.meta.get("/device/all")).json()["totalCount"] == 0


async def test_events_over_max_event_size_are_413_and_large_ones_decode_in_a_worker(nats_server: NatsServer) -> None:
    _host, c = await start_core(core_settings(nats_server, Writable={"MaxEventSize": 512}))
    try:
        ev = event_doc()
        ev["readings"] = [{**ev["readings"][0], "id": str(uuid.uuid4())} for _ in range(2000)]
        body = json.dumps({"apiVersion": "v3", "event": ev}).encode()
        assert 64 * 1024 < len(body) < 512 * 1024
        r = await c.data.post("/event/svc/P/d1/t", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 201, r.text
        ev["readings"] *= 3
        big = json.dumps({"apiVersion": "v3", "event": ev}).encode()
        r = await c.data.post("/event/svc/P/d1/t", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "Writable.MaxEventSize" in r.json()["message"]
    finally:
        await stop_core(c)


async def test_events_nested_too_deep_are_400_in_json_and_cbor(core: Core) -> None:
    ev = event_doc()
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    ev["readings"][0] = {**ev["readings"][0], "valueType": "Object", "objectValue": deep}
    ev["readings"][0].pop("value")
    doc = {"apiVersion": "v3", "event": ev}
    for body, ct in ((json.dumps(doc).encode(), "application/json"), (cbor2.dumps(doc), "application/cbor")):
        r = await core.data.post("/event/svc/P/d1/t", content=body, headers={"content-type": ct})
        assert r.status_code == 400 and "MaxDocumentDepth" in r.json()["message"], r.text


async def test_deep_bus_event_is_dead_lettered_and_counted(core: Core, bus: NatsBus) -> None:
    dead: list[Msg] = []

    async def on_dead(msg: Msg) -> None:
        dead.append(msg)

    await bus.nc.subscribe(topics.dead_letter("edgewatch-core"), cb=on_dead)
    payload = b'{"apiVersion": "v3", "event": ' + b"[" * 100 + b"]" * 100 + b"}"
    data, headers = encode_envelope(new_envelope(payload), "nats")
    await bus.publish(topics.device_event("svc", "P", "d1", "t"), data, headers)
    await wait_until(lambda: dead, message="dead letter")
    assert "MaxDocumentDepth" in dead[0].headers["Edgewatch-Reason"]
    assert _refusals(core, "MaxDocumentDepth") == 1


async def test_bus_command_with_a_body_nested_too_deep_is_answered_with_an_error(core: Core, bus: NatsBus) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1")])
    env = new_envelope(b'{"sw": ' + b"[" * 100 + b"]" * 100 + b"}")
    reply = await edgex_request(
        bus, topics.command_request("d1", "sw", "set"), env, responder="core-command", timeout=5
    )
    assert reply.error_code == 1 and "MaxDocumentDepth" in reply.error_text()
    assert _refusals(core, "MaxDocumentDepth") == 1


async def test_core_apis_command_alone_serves_only_core_command(nats_server: NatsServer) -> None:
    host = build_app(core_settings(nats_server, Core={"Apis": ["command"]}))
    assert [label for label, _p, _a in host.apps] == ["core-command"]
    assert host.name == "edgewatch-core-command"
    both = build_app(core_settings(nats_server, Core={"Apis": ["metadata", "data"]}))
    assert [label for label, _p, _a in both.apps] == ["core-metadata", "core-data"]


async def test_profile_larger_than_the_bus_max_payload_is_413_not_500(nats_server: NatsServer) -> None:
    max_payload = int(nats_server.conf.max_payload.removesuffix("MB")) * 1024 * 1024
    request_kb = max_payload // 1024 + 1024  # the request limit lets it through; the bus's max_payload does not
    _host, c = await start_core(core_settings(nats_server, Service={"MaxRequestSize": request_kb}))
    try:
        desc = "x" * (max_payload + 100 * 1024)
        r = await c.meta.post(
            "/deviceprofile/uploadfile", files={"file": ("p.yaml", f"name: big\ndescription: {desc}\n")}
        )
        assert r.status_code == 413 and "max_payload" in r.json()["message"], r.text
        r = await c.meta.post("/deviceprofile", json=[profile_req("Big", description=desc)])
        assert r.status_code == 207 and r.json()[0]["statusCode"] == 413
    finally:
        await stop_core(c)


def test_unresolved_source_finds_the_first_source_that_is_no_name_and_matches_nothing() -> None:
    from edgewatch.core.metadata.devices import unresolved_source

    names = frozenset({"t", "sw", "Both"})
    assert unresolved_source(["t", "Both", "s.*"], names, ["t", "sw"]) == -1
    assert unresolved_source(["t", "(a|aa)+$", "sw"], names, ["t", "sw", "a" * 3000 + "b"]) == 1
    assert unresolved_source(["(?=t)"], names, ["t"]) == 0  # not RE2: matches nothing


async def test_many_pattern_auto_events_resolve_in_a_parse_worker(core: Core) -> None:
    resources = [{"name": f"r{i}", "properties": {"valueType": "Int16", "readWrite": "R"}} for i in range(200)]
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("Wide", deviceResources=resources, deviceCommands=[])])
    events = [{"interval": "1s", "sourceName": f"r{i % 200}[0-9]*"} for i in range(500)]
    ok = await core.meta.post(
        "/device?bypassValidation=true", json=[device_req("d1", profile="Wide", autoEvents=events)]
    )
    assert ok.json()[0]["statusCode"] == 201, ok.text
    bad = [*events, {"interval": "1s", "sourceName": "(x|xx)+y"}]
    r = await core.meta.post("/device?bypassValidation=true", json=[device_req("d2", profile="Wide", autoEvents=bad)])
    assert r.json()[0]["statusCode"] == 400 and "autoEvents[500]" in r.json()[0]["message"]
    workers = [p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())]
    assert workers, "500 patterns x 200 resources are matched in a parse worker"
