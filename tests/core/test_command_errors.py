"""core-command maps the device service's error kind to EdgeX's status, in the REST answer and in its own bus
response (``"<status> <message>"``): 400 contract, 404, 405, 423, 503; 502 for a failure it cannot classify (a
stock EdgeX device service sends only text); 500 only for core's own faults."""

from __future__ import annotations

import json

import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request, edgex_respond
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.commanderror import parse_error_text
from tests.core.conftest import Core
from tests.core.helpers import device_req, profile_req, service_req

DS_ANSWERS = [
    ("400 d1/sw: value 7 is above the maximum 1", 400),  # edgewatch-ingest's form: a contract error
    ("404 d1: no device 'd1' here", 404),
    ("405 d1/sw: SET is not allowed", 405),
    ("423 d1 is LOCKED", 423),
    ("503 d1: Modbus timeout (127.0.0.1:5020)", 503),
    ("502 d1/sw: Modbus exception 2 (ILLEGAL_DATA_ADDRESS)", 502),
    ('{"apiVersion":"v3","message":"no such resource","statusCode":404}', 404),  # an EdgeX BaseResponse
    ("failed to write sw -> transport is closing", 502),  # a stock EdgeX device service: text only
]


async def _answering(core: Core, bus: NatsBus, text: str) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1")])

    async def fail(msg: Msg) -> None:
        await edgex_respond(bus, decode_envelope(msg), responder="svc", error=text)

    await bus.nc.subscribe(topics.device_command_request_all("svc"), cb=fail)
    await bus.nc.flush()


@pytest.mark.parametrize(("answer", "status"), DS_ANSWERS)
async def test_command_answers_the_status_of_the_device_services_error_kind(
    core: Core, bus: NatsBus, answer: str, status: int
) -> None:
    await _answering(core, bus, answer)
    r = await core.command.put("/device/name/d1/sw", json={"sw": "true"})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["statusCode"] == status and "d1/sw" in body["message"]
    env = new_envelope(json.dumps({"sw": "true"}).encode())
    reply = await edgex_request(
        bus, topics.command_request("d1", "sw", "set"), env, responder="core-command", timeout=5
    )
    assert reply.error_code == 1
    got, message = parse_error_text(reply.payload.decode())
    assert got == status and message == body["message"]


async def test_command_bus_errors_of_core_itself_carry_their_status(core: Core, bus: NatsBus) -> None:
    await _answering(core, bus, "unused")
    for device, command, status in (("ghost", "sw", 404), ("d1", "t", 405)):
        env = new_envelope(json.dumps({command: "1"}).encode())
        subject = topics.command_request(device, command, "set")
        reply = await edgex_request(bus, subject, env, responder="core-command", timeout=5)
        assert reply.error_code == 1 and parse_error_text(reply.payload.decode())[0] == status


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("400 a/b: too big", (400, "a/b: too big")),
        ("503 x\nmore", (503, "x\nmore")),
        ('{"statusCode":423,"message":"locked"}', (423, "locked")),
        ('{"statusCode":200}', (None, '{"statusCode":200}')),
        ("200 fine", (None, "200 fine")),
        ("4000 no", (None, "4000 no")),
        ("plain text", (None, "plain text")),
    ],
)
def test_error_text_parsing(text: str, parsed: tuple[int | None, str]) -> None:
    assert parse_error_text(text) == parsed
