"""The outbox connection's nats-py client: lean header parsing and direct-sink subscriptions (real nats-server)."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client
from nats.aio.msg import Msg

from edgewatch.sync.connection import OutboxConnection, parse_headers_lean
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until

BLOCKS = [
    b"Content-Type: application/json\r\nEdgewatch-Seq: 17\r\n\r\n",
    b"A:b\r\nC:\tspaced value \r\n\r\n",
    b"Bad Name: x\r\nGood: y\r\n\r\n",
    b"Utf8: caf\xc3\xa9\r\nNoColon\r\n\r\n",
    b"Repeated: 1\r\nRepeated: 2\r\n\r\n",
    b"\xff\xfe: skipped\r\nOk: 1\r\n\r\n",
    b"\xc2\xa0Nbsp: 1\r\nV: \xc2\xa0kept\xc2\xa0 \r\n\r\n",
    b"Empty:\r\n: novalue\r\n\r\n",
]


def test_lean_header_parser_agrees_with_nats_py() -> None:
    for block in BLOCKS:
        # One deliberate difference: a line with an empty name is dropped (nats-py keeps it under "").
        expected = {k: v for k, v in Client._parse_header_lines(block).items() if k}
        assert parse_headers_lean(block) == expected, block
    assert parse_headers_lean(b"Empty:\r\n: novalue\r\n\r\n") == {"Empty": ""}


async def test_direct_sink_receives_every_message_with_headers_then_hands_back(nats_server: NatsServer) -> None:
    conn = OutboxConnection(bus_settings(nats_server), "sink-test")
    await conn.open()
    try:
        nc = conn.nc
        queued: list[Msg] = []

        async def cb(msg: Msg) -> None:
            queued.append(msg)

        sunk: list[Msg] = []
        sub = await nc.subscribe("sink.test", cb=cb)
        nc.set_sink(sub, sunk.append)
        for i in range(200):
            await nc.publish("sink.test", str(i).encode(), reply="r.x", headers={"Edgewatch-Seq": str(i)})
        await nc.flush()
        await wait_until(lambda: len(sunk) == 200, 5, message="200 messages in the sink")
        assert [m.data for m in sunk] == [str(i).encode() for i in range(200)]
        assert [m.headers for m in sunk[:2]] == [{"Edgewatch-Seq": "0"}, {"Edgewatch-Seq": "1"}]
        assert sunk[0].reply == "r.x" and sunk[0].subject == "sink.test" and queued == []
        nc.set_sink(sub, None)
        await nc.publish("sink.test", b"after")
        await nc.flush()
        await wait_until(lambda: len(queued) == 1, 5, message="the callback gets messages again")
        await asyncio.sleep(0.05)
        assert len(sunk) == 200 and queued[0].data == b"after"
    finally:
        await conn.close()
