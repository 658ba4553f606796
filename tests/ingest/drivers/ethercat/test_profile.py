"""Profile and device load: bad ethercat attributes or properties keep the device from starting, named."""

from __future__ import annotations

import pytest

from edgewatch.ingest.drivers.ethercat import create_driver, parse_link
from edgewatch.ingest.registry import DeviceRegistry
from edgewatch.protocols.errors import ProfileConfigError
from tests.ingest.drivers.ethercat.conftest import ecat_device
from tests.support.modbus_sim import make_profile


async def _nothing(_: object) -> None:
    return None


async def test_ethercat_bad_attribute_is_refused_at_profile_load_naming_the_resource():
    registry = DeviceRegistry("edgewatch-ingest", {}, _nothing)  # type: ignore[arg-type]
    profile = make_profile(
        "bad-drive",
        [
            ("Good", "Uint16", {"area": "input", "index": "0x6041"}, {"readWrite": "R"}),
            ("Velocity", "Int32", {"area": "input", "index": "0x606C", "byteOffset": 4}, {"readWrite": "R"}),
        ],
    )
    await registry.put_profile(profile)
    await registry.put_device(ecat_device("drive-1", "bad-drive", "ewnone0", 1))
    assert "drive-1" not in registry.runtimes
    assert registry.errors["drive-1"] == (
        "drive-1/Velocity: a PDO resource needs either index (+ subindex) or byteOffset (+ bitOffset), not both "
        "or neither"
    )
    await registry.close()


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"CycleTime": "1000", "Position": "1"}, "Interface '' must name a network interface"),
        ({"Interface": "eth0"}, "by Position (1-based) or by Alias, exactly one"),
        ({"Interface": "eth0", "Position": "1", "Alias": "5"}, "exactly one"),
        ({"Interface": "eth0", "Position": "1", "CycleTime": "10"}, "CycleTime '10' must be in [100, 1000000]"),
        ({"Interface": "eth0", "Position": "x"}, "Position 'x' is not an integer"),
        ({"Interface": "eth0", "Position": "1", "Baud": "1"}, "unknown ethercat protocol properties ['Baud']"),
    ],
)
def test_ethercat_protocol_properties_are_checked_naming_the_key(props, message):
    with pytest.raises(ProfileConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        parse_link("dev", {"ethercat": props})


def test_ethercat_link_defaults_to_one_millisecond_cycle():
    link = parse_link("dev", {"ethercat": {"Interface": "eth0", "Alias": "0x100", "ProductCode": "0x20001"}})
    assert (link.cycle_us, link.alias, link.position, link.product_code, link.vendor_id) == (
        1000,
        256,
        None,
        0x20001,
        None,
    )


def test_ethercat_driver_factory_parses_without_touching_the_network():
    profile = make_profile("p", [("S", "String", {"area": "state"}, {"readWrite": "R"})])
    driver = create_driver(ecat_device("d", "p", "ewnone0", 2), profile, None)
    assert driver.link.position == 2 and driver.attributes["S"].area == "state"
