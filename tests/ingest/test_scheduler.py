"""Poll loop against the simulator: coalesced reads, onChange, DOWN/UP with no fabricated readings."""

from __future__ import annotations

import itertools
import time

from edgewatch.common.contracts.event import Event
from edgewatch.common.contracts.ids import event_id_for, reading_id_for
from edgewatch.ingest.drivers.modbus.driver import ModbusOptions, create_driver
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.ingest.scheduler import DevicePoller, PollerSettings
from tests.support.modbus_sim import make_device, make_profile, start_modbus_sim
from tests.support.waiting import wait_until


def _profile(n: int = 20):
    rows = [(f"T{i}", "Float32", {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 2 * i}, {}) for i in range(n)]
    return make_profile("poll", rows)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[float, Event]] = []
        self.states: list[tuple[float, str, int]] = []
        self.poller: DevicePoller | None = None

    async def publish(self, event: Event) -> None:
        self.events.append((time.monotonic(), event))

    async def state(self, device: str, state: str) -> None:
        assert self.poller is not None
        self.states.append((time.monotonic(), state, self.poller.stats.failures))


async def _poller(pool, profile, port, auto_events, rec: Recorder, settings: PollerSettings | None = None):
    dev = make_device("dev-1", profile.name, port, auto_events=auto_events, timeout="1s")
    rt = DeviceRuntime(dev, profile, create_driver(dev, profile, ModbusOptions(pool=pool)))
    poller = DevicePoller(rt, rec.publish, rec.state, settings or PollerSettings(backoff_max=0.4))
    rec.poller = poller
    return poller


async def test_poller_reads_all_due_resources_in_one_block_per_cycle(pool):
    profile = _profile(20)
    sim = await start_modbus_sim(profile, values={f"T{i}": float(i) + 0.5 for i in range(20)})
    rec = Recorder()
    aes = [{"interval": "50ms", "sourceName": f"T{i}"} for i in range(20)]
    poller = await _poller(pool, profile, sim.port, aes, rec)
    try:
        poller.start()
        await wait_until(lambda: poller.stats.cycles >= 5, 10, message="5 poll cycles")
        await poller.stop()
        # One holding-register block read per cycle (plus at most the one a cancelled cycle had in flight).
        assert poller.stats.cycles <= sim.requests[3] <= poller.stats.cycles + 1
        assert poller.stats.events == 20 * poller.stats.cycles
        for _, ev in rec.events:
            (r,) = ev.readings
            assert ev.source_name == r.resource_name
            assert r.typed_value() == float(r.resource_name[1:]) + 0.5
    finally:
        await poller.stop()
        await sim.close()


async def test_poller_on_change_publishes_only_changes_beyond_threshold(pool):
    profile = _profile(1)
    sim = await start_modbus_sim(profile, values={"T0": 10.0})
    rec = Recorder()
    aes = [{"interval": "20ms", "sourceName": "T0", "onChange": True, "onChangeThreshold": 0.5}]
    poller = await _poller(pool, profile, sim.port, aes, rec)
    try:
        poller.start()
        await wait_until(lambda: poller.stats.cycles >= 3, 10)
        sim.set_value("T0", 10.25)  # within the threshold: no event
        cycles = poller.stats.cycles
        await wait_until(lambda: poller.stats.cycles >= cycles + 3, 10)
        sim.set_value("T0", 11.0)
        await wait_until(lambda: len(rec.events) >= 2, 10, message="event after a change beyond the threshold")
        await poller.stop()
        assert [e.readings[0].typed_value() for _, e in rec.events] == [10.0, 11.0]
    finally:
        await poller.stop()
        await sim.close()


async def test_poller_device_goes_down_and_up_without_fabricated_readings(pool):
    profile = _profile(4)
    before = {f"T{i}": 1.5 * i for i in range(4)}
    after = {f"T{i}": 100.25 + i for i in range(4)}
    sim = await start_modbus_sim(profile, values=before)
    rec = Recorder()
    aes = [{"interval": "100ms", "sourceName": f"T{i}"} for i in range(4)]
    poller = await _poller(pool, profile, sim.port, aes, rec, PollerSettings(allowed_fails=2, backoff_max=0.4))
    try:
        poller.start()
        await wait_until(lambda: poller.stats.events >= 8, 10, message="readings while UP")
        await sim.stop()
        stopped_at = time.monotonic()
        fails_before = poller.stats.failures
        await wait_until(lambda: any(s == "DOWN" for _, s, _ in rec.states), 10, message="device DOWN")
        down_at, _, fails_at_down = next(x for x in rec.states if x[1] == "DOWN")
        # allowed_fails=2: DOWN on the third failed cycle, i.e. within 3 poll periods of the outage.
        assert fails_at_down - fails_before == 3
        for name, v in after.items():
            sim.set_value(name, v)
        events_while_down = len(rec.events)
        await sim.restart()
        restarted_at = time.monotonic()
        await wait_until(lambda: any(s == "UP" for _, s, _ in rec.states), 10, message="device UP again")
        await wait_until(lambda: len(rec.events) >= events_while_down + 8, 10, message="readings after UP")
        await poller.stop()
        assert [s for _, s, _ in rec.states] == ["DOWN", "UP"]
        assert down_at >= stopped_at
        for t, ev in rec.events:
            (r,) = ev.readings
            if t < stopped_at:
                assert r.typed_value() == before[r.resource_name]
            else:
                assert t >= restarted_at, "a reading was published while the device was unreachable"
                assert r.typed_value() == after[r.resource_name]
    finally:
        await poller.stop()
        await sim.close()


async def test_poller_a_refused_resource_does_not_silence_the_other_sources(pool):
    rows = [
        ("Good", "Int16", {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0}, {}),
        ("Bad", "Int16", {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 1}, {}),
    ]
    profile = make_profile("refuse", rows)
    sim = await start_modbus_sim(profile, values={"Good": 5})
    sim.refuse("Bad")  # the device answers ILLEGAL_DATA_ADDRESS for register 1
    rec = Recorder()
    aes = [{"interval": "50ms", "sourceName": "Good"}, {"interval": "50ms", "sourceName": "Bad"}]
    poller = await _poller(pool, profile, sim.port, aes, rec)
    try:
        poller.start()
        await wait_until(lambda: len(rec.events) >= 3, 10, message="events of the good source")
        await poller.stop()
        assert {e.source_name for _, e in rec.events} == {"Good"}
        assert poller.state == "UP" and not rec.states
        assert poller.stats.errors_by_kind["ModbusExceptionError"] >= 3
    finally:
        await poller.stop()
        await sim.close()


async def test_poller_regex_source_publishes_one_event_per_matched_resource(pool):
    profile = _profile(12)
    sim = await start_modbus_sim(profile, values={f"T{i}": float(i) for i in range(12)})
    rec = Recorder()
    poller = await _poller(pool, profile, sim.port, [{"interval": "50ms", "sourceName": "T1[0-9]?"}], rec)
    try:
        poller.start()
        await wait_until(lambda: poller.stats.cycles >= 2, 10)
        await poller.stop()
        sources = {e.source_name for _, e in rec.events}
        assert sources == {"T1", "T10", "T11"}
        assert all(e.readings[0].resource_name == e.source_name for _, e in rec.events)
    finally:
        await poller.stop()
        await sim.close()


async def test_event_ids_are_derived_and_never_repeat_within_a_device(pool):
    profile = _profile(2)
    dev = make_device("dev-1", profile.name, 1, auto_events=[], timeout="1s")
    rt = DeviceRuntime(dev, profile, create_driver(dev, profile, ModbusOptions(pool=pool)))
    events = [rt.event("T0", {"T0": 1.5, "T1": 2.5}) for _ in range(2000)]  # faster than the clock ticks, maybe
    origins = [e.origin for e in events if e is not None]
    assert len(origins) == 2000 and all(a < b for a, b in itertools.pairwise(origins))
    assert len({e.id for e in events if e is not None}) == 2000
    e = events[0]
    assert e is not None and e.id == event_id_for("dev-1", "T0", e.origin)
    assert [r.id for r in e.readings] == [reading_id_for(e.id, 0), reading_id_for(e.id, 1)]
