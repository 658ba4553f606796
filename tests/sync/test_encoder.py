"""The batch encoder: packed event batches encoded in a worker process, identical to in-place encoding; the worker
goes away with its service, even after a kill -9."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from edgewatch.sync.encoder import BatchEncoder
from edgewatch.syncwire.batch import BatchHeader, DataClass, RecordRow, decode_batch_rows, encode_rows
from tests.support.waiting import wait_until
from tests.sync.loadgen import edgex_event

_SERVICE = """
import asyncio
from edgewatch.sync.encoder import BatchEncoder
from edgewatch.syncwire.batch import BatchHeader, DataClass, RecordRow
async def main():
    e = BatchEncoder(3, True, worker_min_records=1)
    h = BatchHeader(batch_id="b", gateway="g", data_class=DataClass.EVENT, stream="S")
    await e.encode(h, [RecordRow("", "d", 1, "s", 1, 1, "", b"x")])
    print("encoded", flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""


def _rows(n: int) -> list[RecordRow]:
    return [
        RecordRow(
            "", "pump-1", i, "edgex.events.device.x.pump.pump-1.all", i, 10 + i, "", edgex_event("pump-1", i, 5 + i)
        )
        for i in range(1, n + 1)
    ]


async def test_event_batches_encode_in_a_worker_exactly_as_in_place() -> None:
    encoder = BatchEncoder(3, True, worker_min_records=50)
    header = BatchHeader(batch_id="b", gateway="g", data_class=DataClass.EVENT, stream="S")
    alert = header.model_copy(update={"data_class": DataClass.ALERT})
    rows = _rows(50)
    try:
        body = await encoder.encode(header, rows)
        other = await encoder.encode(alert, rows)
    finally:
        encoder.close()
    assert body == encode_rows(header, rows, 3, pack=True)
    assert decode_batch_rows(body) == (header, rows)
    assert other == encode_rows(alert, rows, 3, pack=False)


async def test_the_worker_exits_when_its_service_is_killed() -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", _SERVICE, stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"encoded"
        children = _children(proc.pid)
        assert children, "the encoder started a worker process"
    finally:
        proc.kill()
        await proc.wait()
    await wait_until(lambda: not any(_alive(c) for c in children), 10, message="worker gone")


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def _alive(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_small_event_batches_start_no_worker_and_an_idle_worker_is_stopped() -> None:
    encoder = BatchEncoder(3, True, worker_min_records=50, idle_close_s=0.0)
    header = BatchHeader(batch_id="b", gateway="g", data_class=DataClass.EVENT, stream="S")
    small, large = _rows(49), _rows(50)
    try:
        assert await encoder.encode(header, small) == encode_rows(header, small, 3, pack=True)
        assert encoder._pool is None  # no worker for a small batch
        await encoder.encode(header, large)
        assert encoder._pool is not None
        await asyncio.sleep(0.01)
        await encoder.encode(header, small)  # idle past idle_close_s: the worker is stopped
        assert encoder._pool is None
    finally:
        encoder.close()
