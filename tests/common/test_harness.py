"""The test harness itself: the real nats-server can be used, restarted and killed; the bus reconnects."""

from __future__ import annotations

import asyncio

from edgewatch.common.bus import NatsBus
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


async def test_bus_publish_subscribe_roundtrip_on_real_server(bus: NatsBus) -> None:
    got: list[bytes] = []

    async def handler(msg):  # type: ignore[no-untyped-def]
        got.append(msg.data)

    await bus.subscribe("t.a", handler)
    await bus.publish("t.a", b"hello")
    await wait_until(lambda: got == [b"hello"])


async def test_bus_resumes_after_nats_server_kill_and_restart(nats_server: NatsServer, bus: NatsBus) -> None:
    got: list[bytes] = []

    async def handler(msg):  # type: ignore[no-untyped-def]
        got.append(msg.data)

    await bus.subscribe("t.b", handler)
    nats_server.kill()
    await wait_until(lambda: not bus.connected, message="bus notices the server is gone")
    await asyncio.to_thread(nats_server.start)
    await wait_until(lambda: bus.connected, timeout=15, message="bus reconnects")
    await bus.nc.flush()
    await bus.publish("t.b", b"after-restart")
    await wait_until(lambda: b"after-restart" in got, message="subscription restored")


async def test_bus_handler_failure_is_dead_lettered_and_service_keeps_running(bus: NatsBus) -> None:
    dead: list[tuple[bytes, str]] = []
    ok: list[bytes] = []

    async def dl(msg):  # type: ignore[no-untyped-def]
        dead.append((msg.data, msg.headers["Edgewatch-Reason"]))

    async def handler(msg):  # type: ignore[no-untyped-def]
        if msg.data == b"bad":
            raise ValueError("boom")
        ok.append(msg.data)

    await bus.subscribe("edgewatch.test-client.deadletter", dl)
    await bus.subscribe("t.c", handler)
    await bus.publish("t.c", b"bad")
    await bus.publish("t.c", b"good")
    await wait_until(lambda: ok == [b"good"] and len(dead) == 1)
    assert dead[0][0] == b"bad" and "boom" in dead[0][1]
    assert bus.metrics.dead_letters.labels("handler")._value.get() == 1


async def test_edgex_request_reply_roundtrip_and_timeout(bus: NatsBus) -> None:
    import pytest

    from edgewatch.common.bus.envelope import decode_envelope, new_envelope
    from edgewatch.common.bus.requestreply import edgex_request, edgex_respond
    from edgewatch.common.contracts.errors import ServiceUnavailableError

    async def responder(msg):  # type: ignore[no-untyped-def]
        req = decode_envelope(msg)
        await edgex_respond(bus, req, responder="ds", payload=b'{"ok":true}')

    await bus.subscribe("edgex.device.command.request.ds.>", responder)
    reply = await edgex_request(
        bus, "edgex.device.command.request.ds.d1.c1.get", new_envelope(b"{}"), responder="ds", timeout=2
    )
    assert reply.payload_json() == {"ok": True} and reply.error_code == 0
    with pytest.raises(ServiceUnavailableError):
        await edgex_request(bus, "nobody.listens", new_envelope(b"{}"), responder="none", timeout=0.2)
