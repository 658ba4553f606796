"""Upgrade order: a receiver older than the packed event format refuses version-2 batches with 400; sync then
sends the same batches unpacked (same batch ids) and nothing is lost or duplicated.

The older receiver is a real HTTP server in front of the real receiver: it answers 400 to a packed batch, as a
receiver from before the format did ("not a version-1 sync batch"), and forwards every other batch unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts import topics
from edgewatch.receiver.client import ReceiverClient
from edgewatch.sync.app import build_app
from edgewatch.syncwire.batch import DataClass, is_packed
from tests.receiver.support import LiveReceiver
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until
from tests.sync.loadgen import edgex_event
from tests.sync.support import sync_settings

T0 = 1_790_000_000_000_000_000
FORWARDED = ("content-type", "content-encoding", "idempotency-key", "authorization")


class OldReceiver:
    """Refuses packed batches (400), forwards the rest to ``target``; counts both."""

    def __init__(self, target: str) -> None:
        self.port = free_port()
        self.refused = 0
        self.forwarded = 0
        app = FastAPI()

        @app.post("/api/v3/sync/batch")
        async def batch(request: Request) -> Response:
            body = await request.body()
            if is_packed(body):
                self.refused += 1
                return Response(
                    b'{"apiVersion":"v3","message":"body: not a version-1 sync batch","statusCode":400}',
                    status_code=400,
                    media_type="application/json",
                )
            self.forwarded += 1
            headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
            async with httpx.AsyncClient(base_url=target) as c:
                r = await c.post("/api/v3/sync/batch", content=body, headers=headers)
            return Response(r.content, status_code=r.status_code, media_type="application/json")

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def old_receiver(receiver: LiveReceiver) -> AsyncIterator[OldReceiver]:
    old = OldReceiver(receiver.url)
    task = asyncio.create_task(old.server.serve())
    await wait_until(lambda: old.server.started, 10, message="old receiver listening")
    try:
        yield old
    finally:
        old.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


async def test_a_receiver_refusing_packs_gets_the_same_batches_unpacked_and_nothing_is_lost(
    nats_server: NatsServer, bus: NatsBus, receiver: LiveReceiver, old_receiver: OldReceiver, tmp_path: Path
) -> None:
    host = build_app(sync_settings(nats_server, old_receiver.url, tmp_path, batch_max_msgs=50))
    async with host:
        sent = []
        for seq in range(1, 301):
            payload = edgex_event("pump-1", seq, origin=T0 + seq)  # packable: readings share the event's origin
            sent.append(payload)
            await bus.publish(
                topics.device_event("edgewatch-ingest", "pump", "pump-1", "all"),
                payload,
                {"Content-Type": "application/json"},
            )
        await bus.nc.flush()
        async with ReceiverClient(receiver.url) as rc:

            async def all_there() -> list[dict] | None:  # type: ignore[type-arg]
                _, recs = await rc.records(DataClass.EVENT, limit=1000)
                return recs if len(recs) >= 300 else None

            recs = await wait_until(all_there, 30, message="300 events through the older receiver")
    assert [r["seq"] for r in recs] == list(range(1, 301))
    assert len({r["key"] for r in recs}) == 300
    assert old_receiver.refused >= 1  # sync did try the packed format
    # then stopped packing: at most the batches already encoded in the pipeline (on the wire, queued, in the making)
    assert old_receiver.refused <= 3
    assert old_receiver.forwarded >= 6  # 300 events in batches of at most 50, all unpacked
