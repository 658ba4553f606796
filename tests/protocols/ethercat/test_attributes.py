"""ethercat resource attributes: what parses, and what is refused with a message naming resource and attribute."""

from __future__ import annotations

import pytest

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.ethercat.attributes import EtherCatAttributes, parse_attributes


@pytest.mark.parametrize(
    ("attrs", "vt", "rw", "expected"),
    [
        ({"area": "input", "index": "0x6041"}, "Uint16", "R", EtherCatAttributes("input", "Uint16", 0x6041, 0)),
        (
            {"area": "output", "index": 0x7000, "subindex": "3"},
            "Bool",
            "RW",
            EtherCatAttributes("output", "Bool", 0x7000, 3),
        ),
        (
            {"area": "input", "byteOffset": 2, "bitOffset": 5},
            "Bool",
            "R",
            EtherCatAttributes("input", "Bool", None, 0, 21),
        ),
        (
            {"area": "sdo", "index": "0x1C13", "completeAccess": True},
            "Binary",
            "R",
            EtherCatAttributes("sdo", "Binary", 0x1C13, 0, None, True),
        ),
        (
            {"area": "sdo", "index": "0x1008", "size": 64},
            "String",
            "R",
            EtherCatAttributes("sdo", "String", 0x1008, size=64),
        ),
        ({"area": "state"}, "String", "R", EtherCatAttributes("state", "String")),
        ({"area": "alStatusCode"}, "Uint16", "R", EtherCatAttributes("alStatusCode", "Uint16")),
    ],
)
def test_attributes_parse_to_typed_model(attrs, vt, rw, expected):
    assert parse_attributes(attrs, vt, rw, device="d", resource="r") == expected


@pytest.mark.parametrize(
    ("attrs", "vt", "rw", "message"),
    [
        ({"area": "pdo", "index": 1}, "Uint8", "R", "area 'pdo' must be one of"),
        ({"area": "input"}, "Uint8", "R", "either index (+ subindex) or byteOffset"),
        ({"area": "input", "index": 1, "byteOffset": 0}, "Uint8", "R", "not both or neither"),
        ({"area": "input", "index": "0x1ZZZ"}, "Uint8", "R", "attribute index '0x1ZZZ' is not an integer"),
        ({"area": "input", "index": 0x10000}, "Uint8", "R", "must be an integer in [0, 65535]"),
        ({"area": "input", "index": 1, "subindex": 256}, "Uint8", "R", "subindex 256"),
        ({"area": "input", "index": 1}, "Uint8", "RW", "area input is read-only"),
        ({"area": "input", "index": 1}, "String", "R", "needs a scalar valueType"),
        ({"area": "input", "byteOffset": 0, "bitOffset": 3}, "Uint8", "R", "bitOffset is for Bool"),
        ({"area": "sdo"}, "Uint8", "R", "area sdo needs attribute index"),
        ({"area": "sdo", "index": 1, "completeAccess": True}, "Uint32", "R", "completeAccess needs valueType Binary"),
        ({"area": "sdo", "index": 1, "completeAccess": "yes"}, "Binary", "R", "must be true or false"),
        ({"area": "state"}, "Float32", "R", "needs valueType String or Uint8"),
        ({"area": "state"}, "String", "RW", "area state is read-only"),
        (
            {"area": "input", "index": 1, "startingAddress": 3},
            "Uint8",
            "R",
            "unknown ethercat attributes ['startingAddress']",
        ),
    ],
)
def test_bad_attributes_are_refused_naming_device_resource_and_attribute(attrs, vt, rw, message):
    with pytest.raises(ProfileConfigError) as e:
        parse_attributes(attrs, vt, rw, device="drive-1", resource="Velocity")
    assert e.value.message.startswith("drive-1/Velocity: ")
    assert message in e.value.message
