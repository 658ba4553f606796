"""The EtherCAT driver against the emulated line: a real pysoem master on a raw socket, the emulator in a netns."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
import yaml

from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Event
from edgewatch.ingest.app import build_app
from edgewatch.ingest.config import DeviceSection, EtherCatSection, IngestSettings
from edgewatch.ingest.drivers.ethercat import EtherCatOptions, create_driver
from edgewatch.ingest.errors import DeviceIOError
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.ingest.scheduler import DevicePoller, PollerSettings
from edgewatch.protocols.ethercat.codec import decode_bits
from edgewatch.sim.ethercat import FIXED_INPUTS
from tests.conftest import bus_settings
from tests.ingest.drivers.ethercat.conftest import drive_profile, ecat_device, io_profile
from tests.support.ethercat_sim import EtherCatLine
from tests.support.waiting import wait_until


class Recorder:
    """Events and operating-state changes of one poller."""

    def __init__(self) -> None:
        self.events: list[tuple[float, Event]] = []
        self.states: list[tuple[float, str]] = []

    async def publish(self, event: Event) -> None:
        self.events.append((time.monotonic(), event))

    async def state(self, device: str, state: str) -> None:
        self.states.append((time.monotonic(), state))


def _runtime(options: EtherCatOptions, iface: str, position: int, **kw: object) -> DeviceRuntime:
    profile = drive_profile() if position == 1 else io_profile()
    dev = ecat_device(f"slave-{position}", profile.name, iface, position, **kw)  # type: ignore[arg-type]
    return DeviceRuntime(dev, profile, create_driver(dev, profile, options))


async def _usable(rt: DeviceRuntime) -> None:
    async def ok() -> bool:
        try:
            await rt.driver.read(["Statusword"] if rt.profile.name == "ew-drive" else ["DI1"])
        except DeviceIOError:
            return False
        return True

    await wait_until(ok, 15, 0.02, message=f"{rt.name} usable")


async def test_ethercat_line_enumerates_both_slaves_and_brings_them_to_op(line: EtherCatLine, ecat):
    drive, io = _runtime(ecat, line.iface, 1), _runtime(ecat, line.iface, 2)
    await _usable(drive)
    await _usable(io)
    master = drive.driver.master  # type: ignore[attr-defined]
    assert master is io.driver.master  # type: ignore[attr-defined]  # one master per interface
    assert [(s.name, s.source) for s in master.slaves.values()] == [
        ("EW-Drive", "CoE 0x1C12/0x1C13"),
        ("EW-IO", "SII"),
    ]
    got = await drive.read(["State", "AlStatusCode"])
    assert got.values == {"State": "OP", "AlStatusCode": 0}
    assert line.control("state") == "ok 1:OP:present 2:OP:present"


async def test_ethercat_slave_given_by_station_alias_is_found_at_its_position(line: EtherCatLine, ecat):
    profile = io_profile()
    dev = ecat_device("io-by-alias", profile.name, line.iface, 2)
    dev.protocols["ethercat"] = {"Interface": line.iface, "Alias": "0x0100", "ProductCode": "0x00020001"}
    rt = DeviceRuntime(dev, profile, create_driver(dev, profile, ecat))
    await _usable(rt)
    assert rt.driver.position() == 2  # type: ignore[attr-defined]


async def test_ethercat_pdo_inputs_decode_every_supported_value_type(line: EtherCatLine, ecat):
    drive, io = _runtime(ecat, line.iface, 1), _runtime(ecat, line.iface, 2)
    await _usable(drive)
    await _usable(io)
    names = [f"In{vt}" for vt, _ in FIXED_INPUTS.values() if vt != "Uint16"]
    got = await drive.read(names)
    assert got.values == {f"In{vt}": v for vt, v in FIXED_INPUTS.values() if vt != "Uint16"}
    assert {type(v) for v in got.values.values()} == {int, float}
    assert all(got.samples[n].origin for n in names)  # stamped with the time of their cycle
    await io.driver.write({"DO1": True, "DO4": True, "AnalogOut": -300})
    want = {"DI1": True, "DI2": False, "DI4": True, "DI4ByOffset": True, "AnalogIn": -300, "AnalogInByOffset": -300}

    async def mirrored() -> bool:
        return (await io.read(list(want))).values == want

    await wait_until(mirrored, 5, 0.01, message="I/O inputs mirror the outputs")
    bools = await io.read([f"DI{b}" for b in range(1, 9)])
    assert all(isinstance(v, bool) for v in bools.values.values())


async def test_ethercat_output_command_reaches_emulated_inputs_within_two_cycles(line: EtherCatLine, ecat):
    drive = _runtime(ecat, line.iface, 1)
    await _usable(drive)
    master = drive.driver.master  # type: ignore[attr-defined]
    values = drive.settings_to_values(drive.resolve("TargetVelocity", "set"), {"TargetVelocity": "-4321"})
    values |= drive.settings_to_values(drive.resolve("Controlword", "set"), {"Controlword": "15"})
    await drive.driver.write(values)
    await wait_until(lambda: 1 in master.sent_cycle, 5, 0.001, message="outputs sent")
    sent = master.sent_cycle[1]

    async def seen() -> bool:
        got = await drive.read(["ActualVelocity", "Statusword"])
        return got.values == {"ActualVelocity": -4321, "Statusword": 0x0237}

    await wait_until(seen, 5, 0.001, message="velocity echoed by the drive")
    # The first good image that shows the echo: the slave applies the outputs after the frame of cycle `sent`,
    # so the next cycle's frame carries the answer: visible within two cycles.
    first = next(
        img.cycle for img in master.history(1) if decode_bits(img.data, 16, "Int32") == -4321 and img.cycle >= sent
    )
    assert first - sent <= 1, (sent, first)
    assert (await drive.read(["TargetVelocity"])).values == {"TargetVelocity": -4321}


async def test_ethercat_sdo_read_write_and_complete_access(line: EtherCatLine, ecat):
    drive = _runtime(ecat, line.iface, 1)
    await _usable(drive)
    got = await drive.read(["VendorSdo", "DeviceName", "TxAssign", "Scale"])
    assert got.values["VendorSdo"] == 0x00000E7C
    assert got.values["DeviceName"] == "EW-Drive"
    assert got.values["TxAssign"] == bytes([2, 0, 0x00, 0x1A, 0x01, 0x1A])  # n, pad, 0x1A00, 0x1A01
    await drive.driver.write({"Scale": 777, "Gain": 0.25})
    assert (await drive.read(["Scale", "Gain"])).values == {"Scale": 777, "Gain": 0.25}
    with pytest.raises(DeviceIOError, match=r"SDO write 0x1018:02.*0x06010002"):
        await drive.driver.write({"ProductSdo": 5})


async def test_ethercat_lost_slave_goes_down_without_readings_then_recovers_up(line: EtherCatLine, ecat):
    rec, drive_rec = Recorder(), Recorder()
    aes = [{"interval": "20ms", "sourceName": "AnalogIn"}]
    io = _runtime(ecat, line.iface, 2, auto_events=aes)
    drive = _runtime(ecat, line.iface, 1, auto_events=[{"interval": "20ms", "sourceName": "Statusword"}])
    settings = PollerSettings(backoff_max=0.1)
    poller = DevicePoller(io, rec.publish, rec.state, settings)
    drive_poller = DevicePoller(drive, drive_rec.publish, drive_rec.state, settings)
    await _usable(io)
    poller.start()
    drive_poller.start()
    try:
        await wait_until(lambda: len(rec.events) >= 3, 10, message="I/O events")
        line.control("drop 2")
        await wait_until(lambda: poller.state == "DOWN", 10, 0.01, message="I/O DOWN")
        down_at = rec.states[-1][0]
        assert "lost" in io.driver.last_error and "AL status code" in io.driver.last_error  # type: ignore[attr-defined]
        drive_before = len(drive_rec.events)
        await wait_until(lambda: len(drive_rec.events) >= drive_before + 5, 10, message="drive keeps publishing")
        assert not [t for t, _ in rec.events if t > down_at], "no readings while DOWN"
        line.control("restore 2")
        await wait_until(lambda: poller.state == "UP", 15, 0.01, message="I/O UP again")
        up_at = rec.states[-1][0]
        await wait_until(lambda: any(t > up_at for t, _ in rec.events), 10, message="I/O events again")
        assert [s for _, s in rec.states] == ["DOWN", "UP"]
        assert (await drive.read(["State"])).values == {"State": "OP"}
        assert line.control("state") == "ok 1:OP:present 2:OP:present"
        assert drive_poller.state == "UP"
    finally:
        await poller.stop()
        await drive_poller.stop()


async def test_ethercat_safeop_error_is_acknowledged_and_slave_returns_to_op(line: EtherCatLine, ecat):
    drive = _runtime(ecat, line.iface, 1)
    await _usable(drive)
    master = drive.driver.master  # type: ignore[attr-defined]
    errors = master.stats.wkc_errors
    line.control("fault 1 0x1B")
    await wait_until(lambda: master.stats.wkc_errors > errors, 5, 0.001, message="working counter drops")

    async def back_in_op() -> bool:
        # The supervisor acknowledges the error, asks SAFE_OP -> OP and reads the state again over a few check
        # rounds; a read right after the first bad frame can still see the fault, so wait for the end state.
        try:
            state = (await drive.read(["State"])).values
        except DeviceIOError:
            return False
        return state == {"State": "OP"} and line.control("state").startswith("ok 1:OP:present")

    await wait_until(back_in_op, 15, 0.02, message="slave 1 acknowledged and back in OP")
    await _usable(drive)


async def test_ethercat_dead_master_worker_is_restarted_and_the_device_comes_back(line: EtherCatLine, ecat):
    rec = Recorder()
    io = _runtime(ecat, line.iface, 2, auto_events=[{"interval": "20ms", "sourceName": "AnalogIn"}])
    poller = DevicePoller(io, rec.publish, rec.state, PollerSettings(backoff_max=0.1))
    await _usable(io)
    master = io.driver.master  # type: ignore[attr-defined]
    poller.start()
    try:
        await wait_until(lambda: rec.events, 10, message="events")
        os.kill(master._proc.pid, signal.SIGKILL)  # the worker, not the service, crashes
        await wait_until(lambda: poller.state == "DOWN", 10, 0.01, message="DOWN while the worker is gone")
        await wait_until(lambda: poller.state == "UP", 30, 0.02, message="UP with a new worker")
        assert master.restarts == 1
    finally:
        await poller.stop()


async def test_ethercat_wrong_product_code_keeps_device_down_naming_both_codes(line: EtherCatLine, ecat):
    rec = Recorder()
    io = _runtime(ecat, line.iface, 2, product=0x99, auto_events=[{"interval": "20ms", "sourceName": "DI1"}])
    poller = DevicePoller(io, rec.publish, rec.state, PollerSettings(backoff_max=0.1))
    poller.start()
    try:
        await wait_until(lambda: poller.state == "DOWN", 15, message="DOWN")
        await wait_until(
            lambda: "product code" in io.driver.last_error,  # type: ignore[attr-defined]
            15,
            message="identity checked once the line runs",
        )
        failures = poller.stats.failures
        await wait_until(lambda: poller.stats.failures >= failures + 2, 15, message="still refused")
        error = io.driver.last_error  # type: ignore[attr-defined]
        assert "slave at position 2 (EW-IO) has product code 0x00020001 (expected 0x00000099)" in error, error
        assert rec.events == [] and poller.state == "DOWN"
    finally:
        await poller.stop()


async def test_ingest_service_publishes_ethercat_events_on_nats_and_commands_reach_the_slave(
    line: EtherCatLine, nats_server, bus, tmp_path
):
    profiles, devices = tmp_path / "profiles", tmp_path / "devices"
    profiles.mkdir()
    devices.mkdir()
    (profiles / "drive.yaml").write_text(yaml.safe_dump(drive_profile().to_dict()))
    dev = ecat_device("drive-1", "ew-drive", line.iface, 1, auto_events=[{"interval": "50ms", "sourceName": "InInt16"}])
    (devices / "drive.yaml").write_text(yaml.safe_dump({"deviceList": [dev.to_dict()]}))
    settings = IngestSettings(
        message_bus=bus_settings(nats_server),
        device=DeviceSection(profiles_dir=str(profiles), devices_dir=str(devices), backoff_max=0.2),
        ethercat=EtherCatSection(supervise_interval=0.01),
        data_dir=str(tmp_path / "data"),
    )
    events: list[AddEventRequest] = []

    async def on_event(msg):  # type: ignore[no-untyped-def]
        events.append(AddEventRequest.model_validate(decode_envelope(msg).payload_json()))

    await bus.subscribe(topics.device_events_all(), on_event)
    async with build_app(settings) as host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://ingest") as http:
            await wait_until(lambda: events, 20, message="EtherCAT events on NATS")
            (reading,) = events[0].event.readings
            assert (events[0].event.device_name, reading.resource_name, reading.value) == (
                "drive-1",
                "InInt16",
                "-1234",
            )

            async def put_accepted() -> bool:
                r = await http.put("/api/v3/device/name/drive-1/TargetVelocity", json={"TargetVelocity": "777"})
                return r.status_code == 200

            await wait_until(put_accepted, 10, message="SET TargetVelocity")

            async def echoed() -> bool:
                r = await http.get("/api/v3/device/name/drive-1/ActualVelocity")
                return r.status_code == 200 and r.json()["event"]["readings"][0]["value"] == "777"

            await wait_until(echoed, 10, message="the drive echoes the target velocity")
            r = await http.get("/api/v3/device/name/drive-1/DeviceName")
            assert r.json()["event"]["readings"][0]["value"] == "EW-Drive"
