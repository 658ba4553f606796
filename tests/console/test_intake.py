"""The live view's EdgeX intake: per-subject decimation with a bounded memory, readings read the way the full
decode reads them, and events on a real bus becoming (decimated) reading frames."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.client import BusDecodeError
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Event, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, CONTENT_JSON, encode_add_event
from edgewatch.common.contracts.feature import FeatureVector, encode_feature_vector
from edgewatch.console.intake import ReadingGate, reading_values
from edgewatch.console.live import LiveHub
from edgewatch.console.messaging import ConsoleMessaging
from tests.support.waiting import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_interval_zero_lets_every_event_through() -> None:
    gate = ReadingGate(0.0)
    assert all(gate.admit("a") for _ in range(50)) and gate.held_back == 0 and len(gate) == 0


def test_a_fast_subject_is_held_to_one_event_per_interval_and_others_are_independent() -> None:
    clock = Clock()
    gate = ReadingGate(0.1, clock=clock)
    kept = []
    for _ in range(100):  # 40 events/s for 2.5 s
        kept.append(gate.admit("fast"))
        assert gate.admit("slow") if int(clock.now * 1000) % 500 == 0 else True
        clock.now += 0.025
    assert 24 <= sum(kept) <= 26 and gate.held_back == 100 - sum(kept)
    assert kept[:5] == [True, False, False, False, True]


def test_a_source_slower_than_the_interval_is_never_held_back() -> None:
    clock = Clock()
    gate = ReadingGate(0.1, clock=clock)
    for _ in range(200):
        assert gate.admit("demo-pump.Vibration")  # 5 per second, the demo's fastest source
        clock.now += 0.2
    assert gate.held_back == 0


def test_the_gate_remembers_at_most_max_keys_subjects() -> None:
    clock = Clock()
    gate = ReadingGate(1.0, max_keys=8, clock=clock)
    for i in range(1000):
        assert gate.admit(f"dev-{i}")  # a new subject always gets its first event through
        assert len(gate) <= 8
    assert not gate.admit("dev-999")  # the recent ones are still held to the interval


def _event(readings: list[Reading], device: str = "pump-7", source: str = "all") -> Event:
    return new_event(device, "demo-pump", source, readings, origin=ORIGIN)


ORIGIN = 1_700_000_000_123_456_789


def _r(name: str, vt: str, value: Any, origin: int = ORIGIN) -> Reading:
    return Reading.simple("pump-7", "demo-pump", name, vt, value, origin=origin)


CASES = [
    [_r("Vibration", "Float32", 7.25), _r("Current", "Int16", -3), _r("PumpStop", "Bool", True)],
    [_r("Temperature", "Float64", math.nan), _r("Label", "String", "x"), _r("Count", "Uint64", 2**63)],
    [_r("Vibration", "Float32", 1.5)],
]


@pytest.mark.parametrize("readings", CASES)
@pytest.mark.parametrize("content_type", [CONTENT_JSON, CONTENT_CBOR])
def test_readings_are_the_numeric_and_bool_ones_with_nan_as_a_gap(readings: list[Reading], content_type: str) -> None:
    ev = _event(readings)
    device, origin, values = reading_values(encode_add_event(AddEventRequest.of(ev), content_type), content_type)
    expected: dict[str, float | None] = {}
    for r in readings:
        v = r.typed_value()
        if r.value_type.is_numeric or r.value_type.value == "Bool":
            expected[r.resource_name] = float(v) if math.isfinite(float(v)) else None
    assert (device, origin, values) == ("pump-7", ev.origin, expected)


def test_the_frame_time_is_the_first_kept_reading_s_own_origin() -> None:
    readings = [_r("Label", "String", "x", origin=ORIGIN - 7), _r("Vibration", "Float32", 2.5, origin=ORIGIN + 5)]
    for content_type in (CONTENT_JSON, CONTENT_CBOR):
        body = encode_add_event(AddEventRequest.of(_event(readings)), content_type)
        assert reading_values(body, content_type) == ("pump-7", ORIGIN + 5, {"Vibration": 2.5})


def test_an_optimized_single_reading_event_is_named_by_its_source() -> None:
    ev = _event([_r("Vibration", "Float32", 2.5)], source="Vibration").optimized()
    assert reading_values(encode_add_event(AddEventRequest.of(ev)), CONTENT_JSON) == (
        "pump-7",
        ev.origin,
        {"Vibration": 2.5},
    )


@pytest.mark.parametrize(
    "body",
    [b'{"apiVersion":"v3","event":{"id":"not-a-uuid"}}', b"[1,2", b'{"apiVersion":"v3","requestId":"x"}'],
)
def test_an_event_that_does_not_decode_raises_for_the_dead_letter(body: bytes) -> None:
    with pytest.raises(BusDecodeError):
        reading_values(body, CONTENT_JSON)


def _publishable(readings: list[Reading], fmt: str) -> tuple[bytes, dict[str, str]]:
    return encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(_event(readings)))), fmt)


def _frames(hub: LiveHub, device: str) -> list[tuple[str, dict[str, Any]]]:
    lst = hub.add(device)
    out = []
    while not lst.queue.empty():
        kind, data = lst.queue.get_nowait().decode().strip().split("\n")
        out.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    hub.remove(lst)
    return out


async def test_events_on_the_bus_become_reading_frames_one_per_interval_per_subject(bus: NatsBus) -> None:
    hub = LiveHub(history_points=50, queue_size=10)
    messaging = ConsoleMessaging(bus, hub, ReadingGate(60.0))
    await messaging.start()
    try:
        await bus.settle()
        for i in range(20):  # one fast subject: only its first event within the minute becomes a frame
            body, headers = _publishable([_r("Vibration", "Float32", i)], "nats")
            await bus.publish(topics.device_event("ds", "demo-pump", "pump-7", "Vibration"), body, headers)
        body, headers = _publishable([_r("PumpStop", "Bool", True)], "json")  # another source of the same device
        await bus.publish(topics.device_event("ds", "demo-pump", "pump-7", "PumpStop"), body, headers)
        await wait_until(lambda: len(_frames(hub, "pump-7")) == 2, message="two reading frames")
        await bus.settle()
        frames = _frames(hub, "pump-7")
    finally:
        await messaging.stop()
    t = 1_700_000_000_123
    assert frames == [
        ("reading", {"t": t, "values": {"Vibration": 0.0}}),
        ("reading", {"t": t, "values": {"PumpStop": 1.0}}),
    ]
    assert messaging.gate.held_back == 19


async def test_feature_frames_carry_values_to_six_significant_digits(bus: NatsBus) -> None:
    hub = LiveHub(history_points=50, queue_size=10)
    messaging = ConsoleMessaging(bus, hub)
    await messaging.start()
    try:
        await bus.settle()
        fv = FeatureVector.model_validate(
            {
                "device": "pump-7",
                "resources": ["Vibration"],
                "window_start": 1_000_000,
                "window_end": 2_000_000,
                "sample_count": 4,
                "names": ["Vibration.mean", "Vibration.rms", "Vibration.kurtosis", "Vibration.peak"],
                "values": np.array([1.2345678901234567, -71.5, math.nan, 123456789.0]),
            }
        )
        await bus.publish(topics.feature_vector("pump-7"), encode_feature_vector(fv))
        await wait_until(lambda: len(_frames(hub, "pump-7")) == 1, message="a feature frame")
        frames = _frames(hub, "pump-7")
    finally:
        await messaging.stop()
    assert frames == [
        ("feature", {"t": 2, "names": fv.names, "values": [1.23457, -71.5, None, 123457000.0]}),
    ]
