"""The workload of bench/e2e.py (and bench/soak.py, bench/features_intake.py): the bench device service's profile,
the rule under test (one leaf, or the three-leaf compound rule of issue 19) and its EdgeX events."""

from __future__ import annotations

import time

import numpy as np

from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import encode_add_event

DS = "bench-ds"
PROFILE_NAME = "bench-pump"
BG = [f"bg-{i}" for i in range(10)]
TRIP = "trip"
TRIGGER_EVERY = 25

PROFILE = {
    "name": PROFILE_NAME,
    "manufacturer": "edgewatch",
    "model": "bench",
    "deviceResources": [
        {"name": "BenchCurrent", "properties": {"valueType": "Float32", "readWrite": "R"}},
        {"name": "BenchVibration", "properties": {"valueType": "Float32", "readWrite": "R"}},
        {"name": "PumpStop", "properties": {"valueType": "Bool", "readWrite": "RW"}},
    ],
}
RULE = {
    "name": "bench-trip",
    "source": {"kind": "reading", "device": "*", "name": "BenchCurrent"},
    "condition": {"comparator": ">", "threshold": 12.0, "clearThreshold": 11.0},
    "actions": [{"command": "PumpStop", "settings": {"PumpStop": "true"}}],
}

COMPOUND_RULE = {
    "name": "bench-trip",
    "condition": {
        "all": [
            {
                "source": {"kind": "reading", "device": "*", "name": "BenchCurrent"},
                "comparator": ">",
                "threshold": 12.0,
                "clearThreshold": 11.0,
            },
            {
                "source": {"kind": "reading", "device": "*", "name": "BenchVibration"},
                "comparator": ">",
                "threshold": 5.0,
                "clearThreshold": 4.0,
            },
            {
                "not": {
                    "source": {"kind": "reading", "device": "*", "name": "PumpStop"},
                    "comparator": ">",
                    "threshold": 0.5,
                }
            },
        ]
    },
    "actions": [{"command": "PumpStop", "settings": {"PumpStop": "true"}}],
}

Event = tuple[str, bytes, dict[str, str], bool]  # subject, body, headers, is a crossing


def event_bytes(device: str, current: float, vibration: float, origin: int) -> tuple[bytes, dict[str, str]]:
    readings = [
        Reading.simple(device, PROFILE_NAME, "BenchCurrent", "Float32", current, origin=origin),
        Reading.simple(device, PROFILE_NAME, "BenchVibration", "Float32", vibration, origin=origin),
        Reading.simple(device, PROFILE_NAME, "PumpStop", "Bool", False, origin=origin),
    ]
    ev = new_event(device, PROFILE_NAME, "all", readings, origin=origin)
    return encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(ev))), "nats")


def make_events(n: int, rate: float, t0: int | None = None) -> list[Event]:
    """``n`` distinct events ``1/rate`` apart from ``t0``: background pumps, and every TRIGGER_EVERY-th the trip
    pump, alternately crossing (14 A) and clearing (9 A)."""
    rng = np.random.default_rng(9)
    t0 = time.time_ns() if t0 is None else t0
    step = int(1e9 / rate)
    out: list[Event] = []
    crossing = True
    noise = rng.normal(0, 0.3, n).tolist()
    for i in range(n):
        origin = t0 + i * step
        if i % TRIGGER_EVERY == 0:
            body, headers = event_bytes(TRIP, 14.0 if crossing else 9.0, 7.0 if crossing else 2.0, origin)
            out.append((topics.device_event(DS, PROFILE_NAME, TRIP, "all"), body, headers, crossing))
            crossing = not crossing
        else:
            dev = BG[i % len(BG)]
            body, headers = event_bytes(dev, 10.0 + noise[i], 2.0 + noise[i] / 2, origin)
            out.append((topics.device_event(DS, PROFILE_NAME, dev, "all"), body, headers, False))
    return out
