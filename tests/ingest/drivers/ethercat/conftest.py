"""One emulated line (netns + veth + emulator process) per test module, and the profiles of its two slaves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.ingest.drivers.ethercat import EtherCatOptions, MasterPool
from edgewatch.protocols.ethercat.master import MasterSettings
from edgewatch.sim.ethercat import DRIVE_PRODUCT, FIXED_INPUTS, IO_PRODUCT, VENDOR_ID
from tests.support.ethercat_sim import EtherCatLine, start_line, stop_line
from tests.support.modbus_sim import make_profile


@pytest.fixture(scope="module")
def line() -> Iterator[EtherCatLine]:
    """The emulated drive (position 1) and I/O slave (position 2) behind a veth pair."""
    running = start_line()
    try:
        yield running
    finally:
        stop_line(running)


@pytest.fixture
async def ecat() -> AsyncIterator[EtherCatOptions]:
    """Driver options with a fresh master pool (every master stopped after the test)."""
    options = EtherCatOptions(MasterPool(MasterSettings(supervise_interval=0.01, retry_interval=0.2)))
    try:
        yield options
    finally:
        await options.pool.close()


def drive_profile() -> DeviceProfile:
    """Every value type of TxPDO 0x1A01 by index, the drive's controlword/velocity PDOs, SDOs and the AL state."""
    rows: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        (f"In{vt}", vt, {"area": "input", "index": "0x2001", "subindex": sub}, {"readWrite": "R"})
        for sub, (vt, _) in FIXED_INPUTS.items()
    ]
    rows += [
        ("Statusword", "Uint16", {"area": "input", "index": "0x6041"}, {"readWrite": "R"}),
        ("ActualVelocity", "Int32", {"area": "input", "index": 0x606C}, {"readWrite": "R"}),
        ("Controlword", "Uint16", {"area": "output", "index": "0x6040", "subindex": 0}, {}),
        ("TargetVelocity", "Int32", {"area": "output", "index": "0x60FF"}, {}),
        ("VendorSdo", "Uint32", {"area": "sdo", "index": "0x1018", "subindex": 1}, {"readWrite": "R"}),
        ("ProductSdo", "Uint32", {"area": "sdo", "index": "0x1018", "subindex": 2}, {}),
        ("DeviceName", "String", {"area": "sdo", "index": "0x1008"}, {"readWrite": "R"}),
        ("TxAssign", "Binary", {"area": "sdo", "index": "0x1C13", "completeAccess": True}, {"readWrite": "R"}),
        ("Scale", "Uint32", {"area": "sdo", "index": "0x2000", "subindex": 1}, {}),
        ("Gain", "Float32", {"area": "sdo", "index": "0x2000", "subindex": 2}, {}),
        ("State", "String", {"area": "state"}, {"readWrite": "R"}),
        ("AlStatusCode", "Uint16", {"area": "alStatusCode"}, {"readWrite": "R"}),
    ]
    return make_profile("ew-drive", rows)


def io_profile() -> DeviceProfile:
    """Inputs by index (Bool bits, Int16) and by byte/bit offset; outputs likewise."""
    rows: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        (f"DI{b}", "Bool", {"area": "input", "index": "0x6000", "subindex": b}, {"readWrite": "R"}) for b in range(1, 9)
    ]
    rows += [(f"DO{b}", "Bool", {"area": "output", "index": "0x7000", "subindex": b}, {}) for b in range(1, 9)]
    rows += [
        ("AnalogIn", "Int16", {"area": "input", "index": "0x6010", "subindex": 1}, {"readWrite": "R"}),
        ("AnalogInByOffset", "Int16", {"area": "input", "byteOffset": 1}, {"readWrite": "R"}),
        ("DI4ByOffset", "Bool", {"area": "input", "byteOffset": 0, "bitOffset": 3}, {"readWrite": "R"}),
        ("AnalogOut", "Int16", {"area": "output", "byteOffset": 1}, {}),
    ]
    return make_profile("ew-io", rows)


def ecat_device(
    name: str,
    profile: str,
    iface: str,
    position: int,
    *,
    product: int | None = None,
    auto_events: list[dict[str, Any]] | None = None,
) -> Device:
    """An ethercat device at ``position`` with the emulator's vendor id and (by default) the right product code."""
    code = product if product is not None else (DRIVE_PRODUCT if position == 1 else IO_PRODUCT)
    protocols = {
        "ethercat": {
            "Interface": iface,
            "CycleTime": "1000",
            "Position": str(position),
            "VendorId": f"0x{VENDOR_ID:08X}",
            "ProductCode": f"0x{code:08X}",
        }
    }
    return Device.model_validate(
        {
            "name": name,
            "profileName": profile,
            "serviceName": "edgewatch-ingest",
            "adminState": "UNLOCKED",
            "operatingState": "UP",
            "protocols": protocols,
            "autoEvents": auto_events or [],
        }
    )
