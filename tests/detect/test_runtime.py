"""edgewatch.detect.runtime: causal windows per stream, the persistence state machine, thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from edgewatch.detect.runtime import (
    Persistence,
    WindowBuffer,
    WindowBuffers,
    over_threshold,
    persist,
    sliding_windows,
)


def test_window_buffer_returns_none_until_full_then_the_last_w_vectors_oldest_first() -> None:
    buf = WindowBuffer(3, 2)
    assert buf.push([0, 0]) is None
    assert buf.push([1, 10]) is None
    assert not buf.ready
    w = buf.push([2, 20])
    assert w is not None and w.dtype == np.float32
    np.testing.assert_array_equal(w, [[0, 0], [1, 10], [2, 20]])
    for t in range(3, 9):
        w = buf.push([t, 10 * t])
        assert w is not None
        np.testing.assert_array_equal(w[:, 0], [t - 2, t - 1, t])
        np.testing.assert_array_equal(w[:, 1], [10 * (t - 2), 10 * (t - 1), 10 * t])


def test_window_buffer_hands_out_copies_that_later_pushes_do_not_change() -> None:
    buf = WindowBuffer(2, 1)
    buf.push([1])
    first = buf.push([2])
    buf.push([3])
    buf.push([4])
    assert first is not None
    np.testing.assert_array_equal(first[:, 0], [1, 2])


def test_window_buffer_of_one_returns_each_vector_and_reset_starts_over() -> None:
    buf = WindowBuffer(1, 3)
    w = buf.push([1, 2, 3])
    assert w is not None and w.shape == (1, 3)
    big = WindowBuffer(2, 1)
    big.push([1])
    big.reset()
    assert big.count == 0
    assert big.push([5]) is None


def test_window_buffer_refuses_a_vector_of_the_wrong_width_and_bad_sizes() -> None:
    with pytest.raises(ValueError, match="expected 2 values, got 3"):
        WindowBuffer(2, 2).push([1, 2, 3])
    with pytest.raises(ValueError):
        WindowBuffer(0, 2)
    with pytest.raises(ValueError):
        WindowBuffers(2, 0)


def test_window_buffers_keep_one_independent_window_per_key() -> None:
    bufs = WindowBuffers(2, 1)
    assert bufs.push("a", [1]) is None
    assert bufs.push("b", [100]) is None
    wa = bufs.push("a", [2])
    wb = bufs.push("b", [200])
    assert wa is not None and wb is not None
    np.testing.assert_array_equal(wa[:, 0], [1, 2])
    np.testing.assert_array_equal(wb[:, 0], [100, 200])
    bufs.reset("a")
    assert bufs.push("a", [3]) is None
    assert len(bufs) == 2


def test_sliding_windows_equal_what_the_buffer_returns_row_by_row() -> None:
    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    buf = WindowBuffer(5, 3)
    pushed = [w for w in (buf.push(r) for r in x) if w is not None]
    np.testing.assert_array_equal(sliding_windows(x, 5), np.stack(pushed))
    assert sliding_windows(x[:3], 5).shape == (0, 5, 3)


# (raise_k, clear_m, over sequence, expected alarm after each sample)
PERSISTENCE_TABLE = [
    (1, 1, "0110100", "0110100"),
    (3, 1, "0110111100", "0000001100"),  # two overs never raise; the third consecutive does
    (2, 3, "0110010001110", "0011111100111"),  # raise on the 2nd over; one or two unders do not clear
    (2, 2, "1010101010", "0000000000"),  # alternating noise never raises
    (1, 4, "1000100001", "1111111101"),
]


@pytest.mark.parametrize(("raise_k", "clear_m", "over", "alarm"), PERSISTENCE_TABLE)
def test_persistence_raises_after_k_overs_and_clears_after_m_unders(
    raise_k: int, clear_m: int, over: str, alarm: str
) -> None:
    p = Persistence(raise_k, clear_m)
    got = "".join("1" if p.update(c == "1") else "0" for c in over)
    assert got == alarm
    batch = persist([c == "1" for c in over], raise_k, clear_m)
    assert "".join("1" if b else "0" for b in batch) == alarm


def test_persistence_refuses_counts_below_one_and_reset_clears_the_alarm() -> None:
    with pytest.raises(ValueError):
        Persistence(0, 1)
    p = Persistence(1, 5)
    assert p.update(True)
    p.reset()
    assert not p.alarm


def test_over_threshold_is_strictly_greater_and_never_true_for_nan() -> None:
    np.testing.assert_array_equal(over_threshold([1.0, 2.0, 2.5, float("nan")], 2.0), [False, False, True, False])
