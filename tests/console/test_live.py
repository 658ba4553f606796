"""LiveHub: history per device and kind, fan-out to pages, a slow page dropped instead of growing memory; field
errors split out of EdgeX messages for the forms."""

from __future__ import annotations

import json
import random

import pytest

from edgewatch.console.live import History, LiveHub, frame
from edgewatch.console.overview import field_errors
from edgewatch.console.session import SessionStore
from edgewatch.console.stream import sse_frames


def _doc(data: bytes) -> dict:  # type: ignore[type-arg]
    kind, payload = data.decode().strip().split("\n")
    assert kind.startswith("event: ")
    return json.loads(payload.removeprefix("data: "))  # type: ignore[no-any-return]


def test_frame_is_one_sse_event_with_compact_json() -> None:
    assert frame("score", {"t": 1, "model": "m@1"}) == b'event: score\ndata: {"t":1,"model":"m@1"}\n\n'


def test_a_new_page_gets_the_bounded_history_then_live_frames() -> None:
    hub = LiveHub(history_points=3, queue_size=10)
    for i in range(5):
        hub.publish("pump", "score", {"t": i})
    hub.publish("other", "score", {"t": 99})
    lst = hub.add("pump")
    got = [_doc(lst.queue.get_nowait())["t"] for _ in range(lst.queue.qsize())]
    assert got == [2, 3, 4]
    hub.publish("pump", "score", {"t": 5})
    hub.publish("other", "score", {"t": 100})
    assert _doc(lst.queue.get_nowait())["t"] == 5 and lst.queue.empty()
    assert hub.latest_score["pump"] == {"t": 5} and hub.devices() == ["other", "pump"]


def test_a_page_that_falls_behind_is_dropped_not_buffered_without_bound() -> None:
    hub = LiveHub(history_points=2, queue_size=4)
    lst = hub.add("pump")
    for i in range(100):
        hub.publish("pump", "reading", {"t": i})
    assert lst.dropped.is_set() and not hub.watching("pump") and hub.listeners_dropped == 1
    assert lst.queue.qsize() <= 4 + 2 * 4


def test_removed_page_stops_receiving() -> None:
    hub = LiveHub(history_points=2, queue_size=4)
    lst = hub.add("pump")
    hub.remove(lst)
    hub.publish("pump", "score", {"t": 1})
    assert lst.queue.empty() and hub.listener_count == 0


def test_field_errors_name_each_field_of_a_validation_message() -> None:
    msg = "body.condition.threshold: Input should be a valid number; name: 'a.b' must match x; plain failure"
    assert field_errors(msg) == [
        {"field": "condition.threshold", "message": "Input should be a valid number"},
        {"field": "name", "message": "'a.b' must match x"},
        {"field": "", "message": "plain failure"},
    ]


async def test_the_stream_sends_history_then_live_and_ends_with_the_session() -> None:
    hub = LiveHub(history_points=5, queue_size=10)
    sessions = SessionStore(idle_timeout=60, max_age=600, max_sessions=4)
    sid, _ = sessions.create("token")
    hub.publish("pump", "score", {"t": 1})
    stream = sse_frames(hub, sessions, sid, "pump", keepalive=0.05)
    assert await anext(stream) == b"retry: 2000\n\n"
    assert _doc(await anext(stream))["t"] == 1
    hub.publish("pump", "score", {"t": 2})
    assert _doc(await anext(stream))["t"] == 2
    assert await anext(stream) == b": keep-alive\n\n"
    sessions.drop(sid)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert not hub.watching("pump")


def test_a_history_keeps_at_most_its_bytes_and_always_the_newest_frame() -> None:
    hub = LiveHub(history_points=1000, queue_size=10, history_bytes=4096)
    for i in range(500):
        hub.publish("pump", "feature", {"t": i, "names": ["x" * 50]})
    size = len(frame("feature", {"t": 499, "names": ["x" * 50]}))
    assert 4096 - size < hub.history_size <= 4096
    lst = hub.add("pump")
    got = [_doc(lst.queue.get_nowait())["t"] for _ in range(lst.queue.qsize())]
    assert got == list(range(500 - len(got), 500)) and len(got) == hub.history_size // size
    big = LiveHub(history_points=10, queue_size=10, history_bytes=4096)
    big.publish("pump", "feature", {"t": 1, "names": ["y" * 9000]})  # one frame over the budget is still shown
    assert big.history_size > 4096 and big.devices() == ["pump"]
    big.publish("pump", "feature", {"t": 2})
    assert big.history_size == len(frame("feature", {"t": 2}))


def test_the_hub_forgets_the_least_recently_updated_device_past_max_devices() -> None:
    hub = LiveHub(history_points=5, queue_size=10, max_devices=3)
    for i in range(100):
        hub.publish(f"dev-{i}", "score", {"t": i})
        hub.publish("busy", "reading", {"t": i})  # updated all along: never forgotten
        assert len(hub.devices()) <= 3 and len(hub.latest_score) <= 3
    assert hub.devices() == ["busy", "dev-98", "dev-99"] and set(hub.latest_score) == {"dev-98", "dev-99"}
    kept = [frame("score", {"t": 98}), frame("score", {"t": 99}), *(frame("reading", {"t": t}) for t in range(95, 100))]
    assert hub.history_size == sum(map(len, kept))
    lst = hub.add("dev-5")  # a forgotten device's page gets no history, then its live frames
    assert lst.queue.empty()
    hub.publish("dev-5", "score", {"t": 100})
    assert _doc(lst.queue.get_nowait())["t"] == 100


def _reference_window(frames: list[bytes], points: int, max_bytes: int) -> list[bytes]:
    """The window as the history defined it before it was compacted: a deque trimmed from the front."""
    kept: list[bytes] = []
    nbytes = 0
    for data in frames:
        while kept and (len(kept) >= points or nbytes + len(data) > max_bytes):
            nbytes -= len(kept.pop(0))
        kept.append(data)
        nbytes += len(data)
    return kept


@pytest.mark.parametrize(("points", "max_bytes"), [(600, 512 * 1024), (50, 4096), (1000, 3000), (10, 10**9)])
def test_a_compact_history_gives_exactly_the_window_of_the_frames_appended(points: int, max_bytes: int) -> None:
    sizes = [1 + (i * 7919) % 900 for i in range(2000)]  # varied frame sizes, some blocks sealed by bytes
    frames = [frame("feature", {"t": i, "pad": "x" * n}) for i, n in enumerate(sizes)]
    hist = History(points, max_bytes)
    for i, data in enumerate(frames):
        hist.append(data)
        if i % 97 == 0 or i > 1990:
            assert hist.frames() == _reference_window(frames[: i + 1], points, max_bytes)
    assert hist.window_bytes == sum(map(len, _reference_window(frames, points, max_bytes)))
    # what it holds beyond the window: at most one block of frames
    assert hist.count <= points + History.BLOCK_FRAMES
    assert hist.nbytes <= max_bytes + History.BLOCK_BYTES + max(map(len, frames))


def test_a_full_history_of_feature_frames_takes_a_fraction_of_its_bytes() -> None:
    hub = LiveHub(history_points=600, queue_size=10)
    names = [f"Vibration.{s}" for s in ("mean", "std", "rms", "peak", "crest", "kurtosis", "band_0_50", "band_50_100")]
    for i in range(1200):  # 100 minutes of a feature frame per 5 s: full after 600
        hub.publish("pump", "feature", {"t": 1_765_000_000_000 + 5000 * i, "names": names, "values": [i / 7] * 8})
    lst = hub.add("pump")
    assert hub.history_size == sum(len(lst.queue.get_nowait()) for _ in range(lst.queue.qsize()))
    assert hub.history_size > 600 * 300  # 600 frames of over 300 bytes each in the window
    assert hub.history_memory < hub.history_size / 4  # kept compressed


def test_a_historys_window_bytes_are_the_bytes_of_its_window_frames() -> None:
    rng = random.Random(7)  # seeded: frames of every size around the block and window bounds
    for _ in range(60):
        hist = History(rng.randint(1, 300), rng.randint(10, 20_000))
        for i in range(rng.randint(1, 1500)):
            hist.append(bytes(rng.randint(1, 400)))
            if i % 97 == 0:
                assert hist.window_bytes == sum(map(len, hist.frames()))
        assert hist.window_bytes == sum(map(len, hist.frames()))


def test_a_slow_kind_takes_its_memory_once_not_while_its_window_fills() -> None:
    """A feature frame per 5 s fills 600 points in 50 minutes: the arena is sized at the first sealed block and
    holds the filling window and everything after it without growing."""
    rng = random.Random(11)
    hub = LiveHub(history_points=600, queue_size=10)
    names = [
        f"{r}.{s}" for r in ("Current", "Vibration") for s in ("mean", "std", "rms", "min", "max", "delta", "kurt")
    ]
    reserved = []
    for i in range(1500):  # 125 minutes
        values = [round(rng.gauss(10, 2), rng.choice((2, 4, 6))) for _ in names]
        hub.publish("pump", "feature", {"t": 1_765_000_000_000 + 5000 * i, "names": names, "values": values})
        reserved.append(hub.history_reserved)
    first = next(i for i, r in enumerate(reserved) if r)  # the first block sealed (by frames or by bytes)
    assert 0 < first < History.BLOCK_FRAMES
    assert max(reserved) == reserved[first]  # no growth while filling, nor after
    lst = hub.add("pump")
    assert lst.queue.qsize() == 600
    assert hub.history_memory < hub.history_size / 2  # still compressed, room included
