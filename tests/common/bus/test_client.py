"""NatsBus on a real nats-server: pub/sub, dead-lettering, request/reply timeouts, repeated headers, metrics."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import BusDecodeError, NatsBus
from edgewatch.common.bus.headers import Headers
from edgewatch.common.contracts.errors import ServiceUnavailableError
from edgewatch.suite.promtext import last_handled
from tests.support.waiting import wait_until


async def test_bus_publish_subscribe_roundtrip_on_real_server(bus: NatsBus) -> None:
    got: list[bytes] = []

    async def handler(msg: Msg) -> None:
        got.append(msg.data)

    await bus.subscribe("t.a", handler)
    await bus.publish("t.a", b"hello")
    await wait_until(lambda: got == [b"hello"])
    assert bus.metrics.messages_in.labels("t.a")._value.get() == 1
    assert bus.metrics.messages_out.labels("a")._value.get() == 1


async def test_handler_failure_is_counted_logged_dead_lettered_and_service_keeps_running(
    bus: NatsBus, caplog: pytest.LogCaptureFixture
) -> None:
    dead: list[tuple[bytes, str, str]] = []
    ok: list[bytes] = []

    async def dl(msg: Msg) -> None:
        dead.append((msg.data, msg.headers["Edgewatch-Reason"], msg.headers["Edgewatch-Subject"]))

    async def handler(msg: Msg) -> None:
        if msg.data == b"bad":
            raise ValueError("boom")
        if msg.data == b"undecodable":
            raise BusDecodeError("not a thing")
        ok.append(msg.data)

    caplog.set_level(logging.WARNING, logger="edgewatch.common.bus.client")
    await bus.subscribe("edgewatch.test-client.deadletter", dl)
    await bus.subscribe("t.c", handler)
    for body in (b"bad", b"good", b"undecodable", b"after"):
        await bus.publish("t.c", body)
    await wait_until(lambda: ok == [b"good", b"after"] and len(dead) == 2)
    assert dead[0] == (b"bad", "handler: ValueError: boom", "t.c")
    assert dead[1] == (b"undecodable", "decode: not a thing", "t.c")
    assert bus.metrics.dead_letters.labels("handler")._value.get() == 1
    assert bus.metrics.dead_letters.labels("decode")._value.get() == 1
    assert any(r.message == "bus handler failed" for r in caplog.records)
    assert sum(r.message == "dead-lettered bus message" for r in caplog.records) == 2


async def test_dead_letter_keeps_the_original_headers(bus: NatsBus) -> None:
    dead: list[Msg] = []

    async def dl(msg: Msg) -> None:
        dead.append(msg)

    async def handler(msg: Msg) -> None:
        raise BusDecodeError("x")

    await bus.subscribe("edgewatch.test-client.deadletter", dl)
    await bus.subscribe("t.h", handler)
    await bus.publish("t.h", b"x", {"RequestId": "r-1"})
    await wait_until(lambda: dead)
    assert dead[0].headers["RequestId"] == "r-1" and dead[0].headers["Edgewatch-Subject"] == "t.h"


async def test_repeated_header_values_survive_a_round_trip(bus: NatsBus) -> None:
    got: list[Msg] = []

    async def handler(msg: Msg) -> None:
        got.append(msg)

    await bus.subscribe("t.hdr", handler)
    await bus.publish("t.hdr", b"", Headers.from_pairs([("QueryParams", "a:1"), ("QueryParams", "b:2"), ("X", "y")]))
    await wait_until(lambda: got)
    h = got[0].headers
    assert isinstance(h, Headers)
    assert h.getall("QueryParams") == ["a:1", "b:2"] and h["QueryParams"] == "a:1" and h["X"] == "y"


async def test_request_reply_returns_the_answer(bus: NatsBus) -> None:
    async def echo(msg: Msg) -> None:
        await msg.respond(msg.data.upper())

    await bus.subscribe("svc.echo", echo)
    reply = await bus.request("svc.echo", b"ping", timeout=2)
    assert reply.data == b"PING"


async def test_request_without_responder_fails_fast_with_service_unavailable(bus: NatsBus) -> None:
    # "no responder" (the server's no-responders status), not "within 10s": answered at once, no timeout
    with pytest.raises(ServiceUnavailableError, match="no responder"):
        await bus.request("nobody.home", b"x", timeout=10)


async def test_request_to_a_silent_responder_times_out_with_service_unavailable(bus: NatsBus) -> None:
    async def silent(msg: Msg) -> None:
        return None

    await bus.subscribe("svc.silent", silent)
    with pytest.raises(ServiceUnavailableError, match="within"):
        await bus.request("svc.silent", b"x", timeout=0.3)


async def test_request_on_a_closed_bus_is_service_unavailable(bus: NatsBus) -> None:
    await bus.drain()
    with pytest.raises(ServiceUnavailableError):
        await bus.request("svc.any", b"x", timeout=0.5)


async def test_slow_handler_does_not_block_other_subscriptions(bus: NatsBus) -> None:
    release = asyncio.Event()
    fast: list[bytes] = []

    async def slow(msg: Msg) -> None:
        await release.wait()

    async def quick(msg: Msg) -> None:
        fast.append(msg.data)

    await bus.subscribe("t.slow", slow)
    await bus.subscribe("t.fast", quick)
    await bus.publish("t.slow", b"1")
    await bus.publish("t.fast", b"2")
    await wait_until(lambda: fast == [b"2"])
    release.set()


async def test_messages_a_full_subscription_drops_are_counted_by_its_pattern(bus: NatsBus) -> None:
    release = asyncio.Event()
    got: list[bytes] = []

    async def blocked(msg: Msg) -> None:
        await release.wait()
        got.append(msg.data)

    await bus.nc.subscribe("t.drop.*", cb=blocked, pending_msgs_limit=2)
    for i in range(10):
        await bus.publish("t.drop.x", str(i).encode())
    await bus.nc.flush()

    def dropped() -> float:
        return bus.metrics.registry.get_sample_value("edgewatch_bus_dropped_messages_total", {"subject": "t.drop.*"})

    await wait_until(lambda: (dropped() or 0) >= 7, message="the drops counted")
    release.set()
    await wait_until(lambda: len(got) + int(dropped() or 0) == 10, message="every message handled or counted")


async def test_each_subscription_exposes_when_it_last_finished_a_message(bus: NatsBus) -> None:
    done: list[bytes] = []

    async def slow_then_failing(msg: Msg) -> None:
        await asyncio.sleep(0.05)
        done.append(msg.data)
        if msg.data == b"bad":
            raise BusDecodeError("not an event")

    def stamps() -> dict[str, float]:
        return last_handled(bus.metrics.render().decode())

    await bus.subscribe("stamp.a", slow_then_failing)
    await bus.subscribe("stamp.idle", slow_then_failing)
    assert stamps() == {}  # nothing handled yet: no sample, not a zero
    before = time.time()
    await bus.publish("stamp.a", b"ok")
    await wait_until(lambda: "stamp.a" in stamps(), message="stamp after the first message")
    first = stamps()["stamp.a"]
    assert before + 0.05 <= first <= time.time()  # when the handler was done, not when the message came
    await bus.publish("stamp.a", b"bad")  # dead-lettered: done with all the same
    await wait_until(lambda: stamps()["stamp.a"] > first, message="stamp after the failed message")
    assert done == [b"ok", b"bad"] and "stamp.idle" not in stamps()
