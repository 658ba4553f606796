"""Alert wire model: msgpack round trip with actions, and field-naming decode errors."""

from __future__ import annotations

import uuid

import msgpack
import pytest

from edgewatch.common.contracts.alert import Alert, AlertAction, decode_alert, encode_alert
from edgewatch.common.contracts.codec import MessageDecodeError


def _alert() -> Alert:
    aid = str(uuid.uuid4())
    return Alert(
        id=aid,
        incident=aid,
        rule="pump-vibration-high",
        device="demo-pump",
        severity="critical",
        state="raised",
        value=14.2,
        threshold=9.0,
        message="score 14.2 > 9 for 2 samples",
        origin=1_700_000_000_000_000_000,
        actions=[
            AlertAction(
                command="PumpStop",
                device="demo-pump",
                settings={"PumpStop": "true"},
                result="ok",
                attempts=1,
                idempotency_key=str(uuid.uuid5(uuid.UUID(aid), "0")),
            )
        ],
    )


def test_alert_roundtrip_keeps_actions_and_idempotency_key() -> None:
    a = _alert()
    back = decode_alert(encode_alert(a))
    assert back == a
    assert back.actions[0].idempotency_key == a.actions[0].idempotency_key


def test_alert_wire_is_json_able_msgpack_map() -> None:
    doc = msgpack.unpackb(encode_alert(_alert()))
    assert doc["state"] == "raised"
    assert doc["actions"][0]["idempotencyKey"]
    assert doc["actions"][0]["settings"] == {"PumpStop": "true"}


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"state": "exploded"}, "state"),
        ({"rule": ""}, "rule"),
        ({"actions": [{"command": "PumpStop"}]}, "actions.0.device"),
    ],
)
def test_alert_decode_rejects_invalid_fields_naming_them(patch: dict[str, object], needle: str) -> None:
    doc = {**msgpack.unpackb(encode_alert(_alert())), **patch}
    with pytest.raises(MessageDecodeError, match=needle):
        decode_alert(msgpack.packb(doc))


def test_alert_decode_rejects_non_msgpack() -> None:
    with pytest.raises(MessageDecodeError, match="not msgpack"):
        decode_alert(b"\xc1\xc1")
