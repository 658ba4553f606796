"""modbus-tcp / modbus-rtu protocol properties: EdgeX spellings, durations, env placeholders, clear errors."""

from __future__ import annotations

import pytest

from edgewatch.ingest.drivers.modbus.protocol import expand_env, parse_link
from edgewatch.protocols.errors import ProfileConfigError


def test_protocol_tcp_properties_accept_strings_numbers_and_go_durations():
    link = parse_link(
        "d", {"modbus-tcp": {"Address": "10.0.0.5", "Port": "1502", "UnitID": 7, "Timeout": "250ms", "IdleTimeout": 30}}
    )
    assert (link.endpoint.address, link.endpoint.port, link.unit_id) == ("10.0.0.5", 1502, 7)
    assert (link.timeout, link.idle_timeout) == (0.25, 30.0)


def test_protocol_rtu_properties():
    link = parse_link(
        "d",
        {
            "modbus-rtu": {
                "Address": "/dev/ttyUSB0",
                "BaudRate": "9600",
                "Parity": "even",
                "StopBits": 2,
                "UnitID": "3",
                "Timeout": "2",
            }
        },
    )
    ep = link.endpoint
    assert (ep.kind, ep.baudrate, ep.parity, ep.stop_bits, link.unit_id, link.timeout) == ("rtu", 9600, "E", 2, 3, 2.0)


def test_protocol_env_placeholders_expand():
    assert expand_env("${P:-5020}", {}) == "5020"
    assert expand_env("${P:-5020}", {"P": "6000"}) == "6000"


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        ({"modbus-tcp": {"Port": "502"}}, "Address is required"),
        ({"modbus-tcp": {"Address": "h", "Port": "x"}}, "Port 'x'"),
        ({"modbus-tcp": {"Address": "h", "UnitID": 300}}, "UnitID 300"),
        ({"modbus-tcp": {"Address": "h", "Timeout": "soon"}}, "Timeout"),
        ({"modbus-rtu": {"Address": "/dev/x", "Parity": "Q"}}, "Parity"),
        ({"opcua": {}}, "no modbus-tcp or modbus-rtu"),
    ],
)
def test_protocol_invalid_properties_name_device_and_key(props, needle):
    with pytest.raises(ProfileConfigError) as ei:
        parse_link("pump-9", props)
    assert ei.value.message.startswith("pump-9: ") and needle in ei.value.message
