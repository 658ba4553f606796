"""JSON bodies over 64 KiB on the device and profile routes are validated in a parse worker, with FastAPI's answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edgewatch.common.service.worker import INLINE_BYTES
from tests.core.conftest import Core, core_settings, start_core, stop_core
from tests.core.helpers import device_req, profile_req, service_req
from tests.support.nats_server import NatsServer

JSON = {"content-type": "application/json"}


def _devices(n: int, prefix: str = "d") -> list[dict[str, Any]]:
    return [device_req(f"{prefix}{i}") for i in range(n)]


def _size(doc: Any) -> int:
    """The body's size as httpx sends it (compact JSON)."""
    return len(json.dumps(doc, separators=(",", ":")))


@pytest.fixture
async def budgetless(nats_server: NatsServer) -> AsyncIterator[Core]:
    """core whose parse worker has no time for anything (1 µs): whatever reaches it is refused with 413."""
    _host, c = await start_core(core_settings(nats_server, Service={"RequestTimeout": 1.0, "ParseTimeout": 1e-6}))
    try:
        yield c
    finally:
        await stop_core(c)


async def test_large_device_and_profile_lists_are_added(core: Core) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    profiles = [profile_req("P"), *(profile_req(f"P{i}") for i in range(1, 300))]
    assert _size(profiles) > INLINE_BYTES
    r = await core.meta.post("/deviceprofile", json=profiles)
    assert r.status_code == 207 and [i["statusCode"] for i in r.json()] == [201] * 300
    devices = _devices(400)
    assert _size(devices) > INLINE_BYTES
    r = await core.meta.post("/device?bypassValidation=true", json=devices)
    assert r.status_code == 207 and [i["statusCode"] for i in r.json()] == [201] * 400
    got = (await core.meta.get("/device/name/d399")).json()["device"]
    assert got["profileName"] == "P" and got["protocols"]["modbus-tcp"]["Port"] == 502
    assert (await core.meta.get("/deviceprofile/name/P299")).status_code == 200


async def test_a_large_invalid_body_gets_the_same_400_as_a_small_one(core: Core) -> None:
    bad = device_req("bad")
    del bad["device"]["adminState"]
    small = await core.meta.post("/device", json=[bad])
    assert _size([bad, *_devices(400)]) > INLINE_BYTES
    large = await core.meta.post("/device", json=[bad, *_devices(400)])
    assert small.status_code == large.status_code == 400
    assert large.json()["message"] == small.json()["message"]
    assert "body.0.device.adminState: Field required" in large.json()["message"]
    assert (await core.meta.get("/device/name/d0")).status_code == 404  # nothing of a refused body was added

    text = json.dumps(_devices(400))[:-10]
    assert len(text) > INLINE_BYTES
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(text)
    r = await core.meta.post("/device", content=text.encode(), headers=JSON)
    assert r.status_code == 400 and r.json()["message"] == f"malformed JSON body: {err.value.msg}"

    not_text = b"\xff" * (INLINE_BYTES + 1)
    small = await core.meta.post("/device", content=b"\xff", headers=JSON)
    large = await core.meta.post("/device", content=not_text, headers=JSON)
    assert small.status_code == large.status_code == 400 and large.json() == small.json()


async def test_only_bodies_over_the_threshold_go_to_the_parse_worker(budgetless: Core) -> None:
    c = budgetless
    await c.meta.post("/deviceservice", json=[service_req("svc")])
    small = await c.meta.post("/deviceprofile", json=[profile_req("P")])
    assert small.status_code == 207 and small.json()[0]["statusCode"] == 201
    r = await c.meta.post("/device?bypassValidation=true", json=_devices(400))
    assert r.status_code == 413 and "ParseTimeout" in r.json()["message"]
    profiles = [profile_req(f"P{i}") for i in range(300)]
    assert _size(profiles) > INLINE_BYTES
    r = await c.meta.put("/deviceprofile", json=profiles)
    assert r.status_code == 413 and "ParseTimeout" in r.json()["message"]
    assert (await c.meta.get("/device/name/d0")).status_code == 404
