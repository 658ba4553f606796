"""core-command: listing, GET/PUT forwarded to the device service over the bus, 404/405/423/503, bus callers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request, edgex_respond
from edgewatch.common.contracts import topics
from tests.core.conftest import Core
from tests.core.helpers import device_req, event_doc, profile_req, service_req


async def _setup(core: Core, **device: Any) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1", **device)])


async def _device_service(bus: NatsBus, calls: list[tuple[str, dict[str, str], bytes]]) -> None:
    """A device service answering command requests on the real bus."""

    async def on(msg: Msg) -> None:
        env = decode_envelope(msg)
        calls.append((msg.subject, dict(env.query_params), env.payload))
        if msg.subject.endswith(".get"):
            ev = event_doc(device="d1", source=msg.subject.split(".")[-2])
            payload = json.dumps({"apiVersion": "v3", "statusCode": 200, "event": ev}).encode()
            await edgex_respond(bus, env, responder="svc", payload=payload)
        else:
            await edgex_respond(bus, env, responder="svc")

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=on)
    await bus.nc.flush()


async def test_command_lists_commands_then_unshadowed_visible_resources(core: Core) -> None:
    await _setup(core)
    body = (await core.command.get("/device/name/d1")).json()["deviceCoreCommand"]
    cmds = {c["name"]: c for c in body["coreCommands"]}
    assert list(cmds) == ["Both", "t", "sw"]
    assert cmds["sw"]["get"] and cmds["sw"]["set"] and "set" not in cmds["t"]
    assert cmds["Both"]["path"] == "/api/v3/device/name/d1/Both"
    assert cmds["Both"]["parameters"] == [
        {"resourceName": "t", "valueType": "Float32"},
        {"resourceName": "sw", "valueType": "Bool"},
    ]
    listing = (await core.command.get("/device/all")).json()
    assert listing["totalCount"] == 1 and listing["deviceCoreCommands"][0]["deviceName"] == "d1"
    assert (await core.command.get("/device/name/nope")).status_code == 404


async def test_command_get_and_put_are_forwarded_to_the_device_service(core: Core, bus: NatsBus) -> None:
    await _setup(core)
    calls: list[tuple[str, dict[str, str], bytes]] = []
    await _device_service(bus, calls)
    r = await core.command.get("/device/name/d1/t", params={"ds-pushevent": "true", "unit": "x"})
    assert r.status_code == 200 and r.json()["event"]["sourceName"] == "t"
    r = await core.command.put("/device/name/d1/sw", json={"sw": "true"})
    assert r.status_code == 200 and r.json() == {"apiVersion": "v3", "statusCode": 200}
    assert calls[0][0] == "edgex.device.command.request.svc.d1.t.get"
    assert calls[0][1] == {"ds-pushevent": "true", "unit": "x"}
    assert calls[1][0] == "edgex.device.command.request.svc.d1.sw.set" and json.loads(calls[1][2]) == {"sw": "true"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/device/name/ghost/t", None, 404),
        ("GET", "/device/name/d1/nope", None, 404),
        ("PUT", "/device/name/d1/t", {"t": "1"}, 405),
        ("PUT", "/device/name/d1/sw", [1, 2], 400),
        ("GET", "/device/name/d1/t?ds-returnevent=yes", None, 400),
        ("GET", "/device/name/d1/t", None, 503),
    ],
)
async def test_command_errors(core: Core, method: str, path: str, body: Any, status: int) -> None:
    await _setup(core)
    r = await core.command.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert r.json()["statusCode"] == status


@pytest.mark.parametrize("state", [{"adminState": "LOCKED"}, {"operatingState": "DOWN"}])
async def test_command_locked_or_down_device_is_423(core: Core, state: dict[str, str]) -> None:
    await _setup(core, **state)
    r = await core.command.get("/device/name/d1/t")
    assert r.status_code == 423


async def test_command_times_out_with_503_when_the_service_never_answers(core: Core, bus: NatsBus) -> None:
    await _setup(core)

    async def silent(msg: Msg) -> None:
        return None

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=silent)
    await bus.nc.flush()
    r = await core.command.get("/device/name/d1/t")
    assert r.status_code == 503 and "did not answer" in r.json()["message"]


async def test_command_over_the_bus_reaches_the_device_service_and_answers_core_command(
    core: Core, bus: NatsBus
) -> None:
    await _setup(core)
    calls: list[tuple[str, dict[str, str], bytes]] = []
    await _device_service(bus, calls)
    env = new_envelope(json.dumps({"sw": "false"}).encode())
    reply = await edgex_request(
        bus, topics.command_request("d1", "sw", "set"), env, responder="core-command", timeout=5
    )
    assert reply.error_code == 0 and reply.request_id == env.request_id
    assert calls[-1][0] == "edgex.device.command.request.svc.d1.sw.set"
    env = new_envelope(b"")
    reply = await edgex_request(bus, topics.command_request("d1", "t", "get"), env, responder="core-command", timeout=5)
    assert json.loads(reply.payload)["event"]["deviceName"] == "d1"
    env = new_envelope(b"")
    reply = await edgex_request(
        bus, topics.command_request("ghost", "t", "get"), env, responder="core-command", timeout=5
    )
    assert reply.error_code == 1 and "ghost" in reply.payload.decode()


async def test_a_slow_device_does_not_hold_another_devices_command_on_the_bus(core: Core, bus: NatsBus) -> None:
    await _setup(core)
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d2")])
    answered: list[str] = []
    release = asyncio.Event()

    async def device_service(msg: Msg) -> None:
        env = decode_envelope(msg)
        device = msg.subject.split(".")[5]

        async def answer() -> None:
            if device == "d1":
                await release.wait()  # d1 answers only once d2's command has come back
            await edgex_respond(bus, env, responder="svc")

        asyncio.get_running_loop().create_task(answer())

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=device_service)
    await bus.nc.flush()

    async def command(device: str) -> None:
        env = new_envelope(json.dumps({"sw": "true"}).encode())
        reply = await edgex_request(
            bus, topics.command_request(device, "sw", "set"), env, responder="core-command", timeout=10
        )
        assert reply.error_code == 0, reply.payload
        answered.append(device)
        if device == "d2":
            release.set()

    await asyncio.gather(command("d1"), command("d2"))
    assert answered == ["d2", "d1"]  # d1's device was still busy while core-command forwarded d2's command


async def test_a_devices_commands_are_forwarded_in_order_without_waiting_for_each_answer(
    core: Core, bus: NatsBus
) -> None:
    await _setup(core)
    seen: list[str] = []
    all_in = asyncio.Event()

    async def device_service(msg: Msg) -> None:
        env = decode_envelope(msg)
        seen.append(json.loads(env.payload)["sw"])

        async def answer() -> None:
            await all_in.wait()  # no answer before every command has come: a chain of round trips would stall here
            await edgex_respond(bus, env, responder="svc")

        if len(seen) == 5:
            all_in.set()
        asyncio.get_running_loop().create_task(answer())

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=device_service)
    await bus.nc.flush()
    sent = [str(i) for i in range(5)]
    replies = await asyncio.gather(
        *(
            edgex_request(
                bus,
                topics.command_request("d1", "sw", "set"),
                new_envelope(json.dumps({"sw": v}).encode()),
                responder="core-command",
                timeout=5,
            )
            for v in sent
        )
    )
    assert [r.error_code for r in replies] == [0] * 5
    assert seen == sent  # the device service got them in the order core-command did
