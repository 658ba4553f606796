"""Metadata and events live in JetStream: they survive restarts of core and of nats-server."""

from __future__ import annotations

from tests.core.conftest import core_settings, start_core, stop_core
from tests.core.helpers import device_req, event_doc, profile_req, service_req
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


async def test_metadata_survives_restart_of_core_and_nats_server(nats_server: NatsServer) -> None:
    settings = core_settings(nats_server)
    _host, c = await start_core(settings)
    try:
        await c.meta.post("/deviceservice", json=[service_req("svc")])
        await c.meta.post("/deviceprofile", json=[profile_req("P"), profile_req("Q")])
        await c.meta.post("/device?bypassValidation=true", json=[device_req("d1"), device_req("d2", profile="Q")])
        await c.meta.post(
            "/provisionwatcher",
            json=[
                {
                    "apiVersion": "v3",
                    "provisionWatcher": {
                        "name": "pw",
                        "serviceName": "svc",
                        "identifiers": {"Address": "10\\..*"},
                        "adminState": "UNLOCKED",
                        "discoveredDevice": {"profileName": "P", "adminState": "UNLOCKED"},
                    },
                }
            ],
        )
        await c.meta.delete("/device/name/d2")
        ev = event_doc()
        assert (await c.data.post("/event/svc/P/d1/t", json={"apiVersion": "v3", "event": ev})).status_code == 201
        before = {
            p: (await c.meta.get(p)).json()
            for p in ("/device/all", "/deviceprofile/all", "/deviceservice/all", "/provisionwatcher/all")
        }
    finally:
        await stop_core(c)

    nats_server.restart()

    _host, c = await start_core(core_settings(nats_server))
    try:
        for path, body in before.items():
            assert (await c.meta.get(path)).json() == body, path
        assert [d["name"] for d in before["/device/all"]["devices"]] == ["d1"]
        assert (await c.meta.get("/deviceprofile/name/Q")).status_code == 200
        got = (await c.data.get(f"/event/id/{ev['id']}")).json()["event"]
        assert got["readings"][0]["value"] == "2.5e+01"
        # Adding the same names again is still a conflict after the restarts.
        r = await c.meta.post("/deviceprofile", json=[profile_req("P")])
        assert r.json()[0]["statusCode"] == 409
    finally:
        await stop_core(c)


async def test_two_core_replicas_see_each_others_writes_through_the_kv_watch(nats_server: NatsServer) -> None:
    _h1, a = await start_core(core_settings(nats_server))
    _h2, b = await start_core(core_settings(nats_server))
    try:
        await a.meta.post("/deviceprofile", json=[profile_req("P")])

        async def seen_by_b() -> bool:
            return (await b.meta.get("/deviceprofile/name/P")).status_code == 200

        await wait_until(seen_by_b, message="replica b sees the profile")
        r = await b.meta.post("/deviceprofile", json=[profile_req("P")])
        assert r.json()[0]["statusCode"] == 409
        await b.meta.delete("/deviceprofile/name/P")

        async def gone_in_a() -> bool:
            return (await a.meta.get("/deviceprofile/name/P")).status_code == 404

        await wait_until(gone_in_a, message="replica a sees the delete")
    finally:
        await stop_core(a)
        await stop_core(b)


async def test_core_keeps_working_across_a_nats_server_restart(nats_server: NatsServer) -> None:
    _host, c = await start_core(core_settings(nats_server))
    try:
        await c.meta.post("/deviceprofile", json=[profile_req("A")])
        nats_server.restart()

        async def writes_again() -> bool:
            r = await c.meta.post("/deviceprofile", json=[profile_req("B")])
            return r.status_code == 207 and r.json()[0]["statusCode"] in (201, 409)

        await wait_until(writes_again, timeout=20, message="core writes after nats-server restart")
        ev = event_doc()

        async def event_stored() -> bool:
            r = await c.data.post("/event/svc/P/d1/t", json={"apiVersion": "v3", "event": ev})
            return r.status_code in (201, 409)

        await wait_until(event_stored, timeout=20, message="core-data stores after restart")
        names = [p["name"] for p in (await c.meta.get("/deviceprofile/all")).json()["profiles"]]
        assert names == ["A", "B"]
    finally:
        await stop_core(c)

    _host, c = await start_core(core_settings(nats_server))
    try:
        names = [p["name"] for p in (await c.meta.get("/deviceprofile/all")).json()["profiles"]]
        assert names == ["A", "B"]
        assert (await c.data.get(f"/event/id/{ev['id']}")).status_code == 200
    finally:
        await stop_core(c)
