"""The outbox connection's nats-py client (bus.natsadapter.SinkClient): direct-sink subscriptions (real nats-server)."""

from __future__ import annotations

import asyncio

from nats.aio.msg import Msg

from edgewatch.common.bus.natsadapter import SinkClient
from edgewatch.sync.messaging import OutboxConnection
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


async def test_direct_sink_receives_every_message_with_headers_then_hands_back(nats_server: NatsServer) -> None:
    conn = OutboxConnection(bus_settings(nats_server), "sink-test")
    await conn.open()
    try:
        nc = conn.nc
        assert isinstance(nc, SinkClient)
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
