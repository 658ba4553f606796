"""EdgeX response-topic request/reply: answers, errorCode 1, no responder and silent responder never hang."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import (
    MessageEnvelope,
    encode_envelope,
    new_envelope,
    new_request_headers,
    subscribe_envelopes,
)
from edgewatch.common.bus.requestreply import edgex_request, edgex_respond, edgex_send_new
from edgewatch.common.contracts.errors import ServiceUnavailableError
from tests.support.nats_server import NatsServer

CMD = "edgex.device.command.request.ds.d1.c1.get"


@pytest.mark.parametrize("fmt", ["nats", "json"])
async def test_edgex_request_gets_the_answer_from_the_response_topic(bus: NatsBus, fmt: str) -> None:
    async def responder(req: MessageEnvelope) -> None:
        assert req.query_params == {"ds-pushevent": "true"}
        await edgex_respond(bus, req, responder="ds", payload=b'{"ok":true}', fmt=fmt)  # type: ignore[arg-type]

    await subscribe_envelopes(bus, "edgex.device.command.request.ds.>", responder)
    req = new_envelope(b"{}", query_params={"ds-pushevent": "true"})
    reply = await edgex_request(bus, CMD, req, responder="ds", timeout=2, fmt=fmt)  # type: ignore[arg-type]
    assert reply.payload_json() == {"ok": True} and reply.error_code == 0
    assert reply.request_id == req.request_id and reply.correlation_id == req.correlation_id
    assert reply.received_topic == f"edgex/response/ds/{req.request_id}"


def test_new_request_headers_are_what_the_new_envelope_encodes_to() -> None:
    env = new_envelope(b'{"PumpStop":"true"}', correlation_id="cid-1")
    body, headers = encode_envelope(env, "nats")
    assert body == env.payload
    assert dict(headers.items()) == new_request_headers("cid-1", env.request_id)
    assert list(headers) == list(new_request_headers("cid-1", env.request_id))  # the same order on the wire


@pytest.mark.parametrize("fmt", ["nats", "json", "cbor"])
async def test_edgex_send_new_sends_a_fresh_envelope_and_gets_its_answer(bus: NatsBus, fmt: str) -> None:
    seen: list[MessageEnvelope] = []

    async def responder(req: MessageEnvelope) -> None:
        seen.append(req)
        await edgex_respond(bus, req, responder="ds", payload=b'{"ok":true}', fmt=fmt)  # type: ignore[arg-type]

    await subscribe_envelopes(bus, "edgex.device.command.request.ds.>", responder)
    sets = [
        await edgex_send_new(bus, CMD, b'{"PumpStop":"true"}', correlation_id=cid, responder="ds", fmt=fmt)  # type: ignore[arg-type]
        for cid in ("cid-1", "")
    ]
    replies = [await p.answer(2) for p in sets]
    assert [r.payload_json() for r in replies] == [{"ok": True}] * 2
    first, second = seen
    assert first.payload == b'{"PumpStop":"true"}' and first.content_type == "application/json"
    assert first.correlation_id == "cid-1" and first.query_params == {} and first.error_code == 0
    assert first.api_version == "v3" and len(second.correlation_id) == 36  # none given: a fresh one, as new_envelope
    assert len({first.request_id, second.request_id}) == 2 and [r.request_id for r in replies] == [
        first.request_id,
        second.request_id,
    ]


async def test_edgex_error_answer_is_returned_with_error_code_1_and_text(bus: NatsBus) -> None:
    async def responder(req: MessageEnvelope) -> None:
        await edgex_respond(bus, req, responder="ds", error="device d1 is locked")

    await subscribe_envelopes(bus, "edgex.device.command.request.ds.>", responder)
    reply = await edgex_request(bus, CMD, new_envelope(b"{}"), responder="ds", timeout=2)
    assert reply.error_code == 1 and reply.content_type == "text/plain" and reply.error_text() == "device d1 is locked"


async def test_edgex_request_without_responder_fails_fast(bus: NatsBus) -> None:
    # "no responder" (the server's no-responders status), not "within 10s": answered at once, no timeout
    with pytest.raises(ServiceUnavailableError, match="no responder"):
        await edgex_request(bus, CMD, new_envelope(b"{}"), responder="ds", timeout=10)


async def test_edgex_request_to_a_silent_responder_times_out(bus: NatsBus) -> None:
    async def silent(req: MessageEnvelope) -> None:
        return None

    await subscribe_envelopes(bus, "edgex.device.command.request.ds.>", silent)
    with pytest.raises(ServiceUnavailableError, match="did not answer"):
        await edgex_request(bus, CMD, new_envelope(b"{}"), responder="ds", timeout=0.3)


async def test_malformed_reply_is_service_unavailable_not_a_hang(bus: NatsBus) -> None:
    async def bad(req: MessageEnvelope) -> None:
        await bus.publish(f"edgex.response.ds.{req.request_id}", b"\x00 not an envelope")

    await subscribe_envelopes(bus, "edgex.device.command.request.ds.>", bad)
    with pytest.raises(ServiceUnavailableError, match="malformed"):
        await edgex_request(bus, CMD, new_envelope(b"{}"), responder="ds", timeout=5)


async def test_requests_reuse_two_persistent_subscriptions_and_each_gets_its_own_answer(
    bus: NatsBus, nats_server: NatsServer
) -> None:
    async def responder(req: MessageEnvelope) -> None:
        await edgex_respond(bus, req, responder="ds", payload=req.payload)  # echo: each answer names its request

    await subscribe_envelopes(bus, "edgex.device.command.request.ds.>", responder)
    await edgex_request(bus, CMD, new_envelope(b'{"n":-1}'), responder="ds", timeout=2)
    before = await _subscriptions(nats_server)
    replies = await asyncio.gather(
        *(edgex_request(bus, CMD, new_envelope(f'{{"n":{i}}}'.encode()), responder="ds", timeout=5) for i in range(50))
    )
    assert [r.payload_json() for r in replies] == [{"n": i} for i in range(50)]
    assert await _subscriptions(nats_server) == before  # no SUB/UNSUB per request
    with pytest.raises(ServiceUnavailableError, match="no responder"):  # the status inbox still answers at once
        await edgex_request(
            bus, "edgex.device.command.request.none.d.c.get", new_envelope(b"{}"), responder="x", timeout=10
        )


async def _subscriptions(server: NatsServer) -> int:
    async with httpx.AsyncClient(timeout=5) as c:
        return int((await c.get(f"http://127.0.0.1:{server.http_port}/varz")).json()["subscriptions"])
