"""`edgewatch up` supervises sync and the receiver: a kill -9 of either is restarted and loses nothing.

Real processes (the suite's process table with the demo pump): the receiver is frozen (SIGSTOP) until sync holds
a backlog of 100+ events, then killed with SIGKILL; right after its restart sync is killed with SIGKILL while it
drains that backlog. The counting oracle is
each class stream's own sequence: every message the local buffer captured (stream sequences 1..last, none
dropped by the buffer policy) must be at the receiver exactly once, and in stream order per device.
"""

from __future__ import annotations

import signal
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from edgewatch.receiver.client import ReceiverClient
from edgewatch.suite.services import child_name
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.streams import stream_name
from edgewatch.syncwire.batch import DataClass
from tests.support.waiting import wait_until
from tests.system.suite_runner import RunningSuite, kill_and_wait_restart, running_suite


async def _records(s: RunningSuite, cls: DataClass) -> list[dict[str, Any]]:
    """Every record of ``cls`` at the receiver, in commit order (the consumer SDK's cursor)."""
    out: list[dict[str, Any]] = []
    base = f"http://127.0.0.1:{s.cfg.ports.receiver}"
    async with ReceiverClient(base, token=s.cfg.secret("receiver-token")) as rc:
        after = 0
        while True:
            after, page = await rc.records(cls, after=after, limit=1000)
            if not page:
                return out
            out += page


async def _sync_status(s: RunningSuite) -> dict[str, Any]:
    doc: dict[str, Any] = await s.get_json("sync", "/sync/status")
    return doc


@pytest.mark.timeout(300)
async def test_kill_9_of_receiver_then_sync_under_up_is_recovered_without_loss(tmp_path: Path) -> None:
    async with running_suite(tmp_path / "data") as s:

        async def flowing(n: int) -> bool:
            return len(await _records(s, DataClass.EVENT)) >= n

        await wait_until(
            lambda: flowing(100), timeout=60, interval=0.5, message="events at the receiver before the kills"
        )
        receiver = s.sup.child("edgewatch-receiver").proc
        assert receiver is not None
        receiver.send_signal(signal.SIGSTOP)  # a cloud outage: batches in flight time out, a backlog builds up

        async def backlog() -> bool:
            return int((await _sync_status(s))["classes"]["event"]["backlogMessages"]) >= 100

        await wait_until(backlog, timeout=60, interval=0.5, message="a backlog while the receiver is frozen")
        await kill_and_wait_restart(s, "edgewatch-receiver", "receiver")
        before = len(await _records(s, DataClass.EVENT))
        sync_child = child_name(s.cfg, "sync")  # the background group's process, sync in it
        await kill_and_wait_restart(s, sync_child, "sync")
        await wait_until(
            lambda: flowing(before + 20), timeout=60, interval=0.5, message="uploads resume after both kills"
        )

        js = s.nc.jetstream()
        settings = SyncSettings()
        last = {cls: (await js.stream_info(stream_name(settings, cls))).state.last_seq for cls in DataClass}
        assert last[DataClass.EVENT] > 0 and last[DataClass.FEATURE] > 0, last

        async def delivered(cls: DataClass) -> tuple[list[dict[str, Any]]] | None:
            recs = [r for r in await _records(s, cls) if r["streamSeq"] <= last[cls]]
            return (recs,) if len(recs) >= last[cls] else None  # a tuple: an empty list would read as "not yet"

        counts = {}
        for cls in DataClass:
            (recs,) = await wait_until(
                lambda cls=cls: delivered(cls), timeout=60, interval=0.5, message=f"all {cls} records"
            )
            seqs = [r["streamSeq"] for r in recs]
            assert sorted(seqs) == list(range(1, last[cls] + 1)), f"{cls}: missing or duplicated records"
            assert len({r["key"] for r in recs}) == len(recs), f"{cls}: duplicate keys"
            per_device: dict[str, list[int]] = defaultdict(list)
            for r in recs:
                per_device[r["device"]].append(r["streamSeq"])
            for device, order in per_device.items():
                assert order == sorted(order), f"{cls} {device}: out of order"
            counts[cls.value] = f"{last[cls]} expected, {len(recs)} received"
        print(f"oracle after kill -9 of receiver and sync: {counts}")
        status = await _sync_status(s)
        assert all(c["droppedMessages"] == 0 for c in status["classes"].values()), status
        assert s.sup.child("edgewatch-receiver").restarts == 1 and s.sup.child(sync_child).restarts == 1
