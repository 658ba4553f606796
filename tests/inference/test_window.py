"""The windowing/persistence the service serves with (edgewatch.detect.runtime) and the MicroBatcher."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from edgewatch.detect.runtime import Persistence, WindowBuffer
from edgewatch.inference.batching import MicroBatcher
from tests.support.waiting import wait_until


def test_window_buffer_returns_last_w_vectors_oldest_first_once_full() -> None:
    buf = WindowBuffer(3, 2)
    got = [buf.push([i, 10 * i]) for i in range(5)]
    assert got[0] is None and got[1] is None
    assert [w.tolist() for w in got[2:] if w is not None] == [
        [[0, 0], [1, 10], [2, 20]],
        [[1, 10], [2, 20], [3, 30]],
        [[2, 20], [3, 30], [4, 40]],
    ]
    with pytest.raises(ValueError, match="expected"):
        buf.push([1.0])


def test_window_buffer_returns_copies_that_later_pushes_do_not_change() -> None:
    buf = WindowBuffer(1, 1)
    first = buf.push([1.0])
    buf.push([2.0])
    assert first is not None and first.tolist() == [[1.0]]


@pytest.mark.parametrize(
    ("raise_k", "clear_m", "overs", "states"),
    [
        (1, 1, "10110", "10110"),
        (2, 1, "1011100", "0001100"),
        (2, 3, "11011000100", "01111110000"),
        (3, 2, "11011100", "00000110"),
    ],
)
def test_persistence_raises_after_k_consecutive_and_clears_after_m(
    raise_k: int, clear_m: int, overs: str, states: str
) -> None:
    p = Persistence(raise_k, clear_m)
    assert "".join(str(int(p.update(c == "1"))) for c in overs) == states


async def test_micro_batcher_cuts_batches_at_max_size_in_arrival_order_without_waiting_the_deadline() -> None:
    batches: list[list[int]] = []

    async def process(batch: list[int]) -> None:
        batches.append(batch)

    b = MicroBatcher(process, max_batch=4, deadline_s=3600.0)
    b.start()
    for i in range(8):
        b.put(i)
    await wait_until(lambda: len(batches) == 2, timeout=5)
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]]
    b.put(8)  # a lone item waits for the deadline (an hour here); stop() processes it
    await asyncio.sleep(0)
    assert b.pending() == 1
    await b.stop()
    assert batches[-1] == [8]


async def test_micro_batcher_sends_a_partial_batch_when_the_deadline_passes() -> None:
    batches: list[list[int]] = []

    async def process(batch: list[int]) -> None:
        batches.append(batch)

    b = MicroBatcher(process, max_batch=100, deadline_s=0.01)
    b.start()
    for i in range(3):
        b.put(i)
    await wait_until(lambda: batches == [[0, 1, 2]], timeout=5)
    await b.stop()


async def test_micro_batcher_keeps_going_after_a_failing_batch() -> None:
    seen: list[list[int]] = []

    async def process(batch: list[int]) -> None:
        seen.append(batch)
        if batch == [0]:
            raise RuntimeError("boom")

    b = MicroBatcher(process, max_batch=1, deadline_s=0)
    b.start()
    b.put(0)
    b.put(1)
    await wait_until(lambda: len(seen) == 2, timeout=5)
    await b.stop()
    assert seen == [[0], [1]]


def test_window_buffer_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        WindowBuffer(0, 3)
    with pytest.raises(ValueError):
        Persistence(0, 1)
    assert np.asarray(WindowBuffer(2, 1).push([1.0]) is None)
