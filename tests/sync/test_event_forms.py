"""Every form an EdgeX event takes on the bus, through real sync and receiver processes, read back from the
receiver's EdgeX API as an Event: ids, readings and order (newest origin first) as published.

Forms (COMPAT.md 5.2-5.4): EdgeX's NATS ``nats`` format (envelope in headers) with a JSON or CBOR payload;
the ``json`` format (the whole MessageEnvelope as the JSON body, no headers: what EdgeX services send with the
NATS ``json`` format and the only form on MQTT) with a v3 base64 payload, a v4 embedded object, or a base64
CBOR payload; and whole-CBOR envelopes (``EDGEX_MSG_CBOR_ENCODE``) with an embedded or a CBOR payload. The
envelopes are written out here key by key as Go emits them, not with edgewatch's encoder.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cbor2
import httpx
import nats
import pytest

from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, Event, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, CONTENT_JSON, encode_add_event
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until
from tests.sync.procs import ServiceProc

TOKEN = "forms-secret"
SERVICE, PROFILE = "device-virtual", "Random-Float-Device"


def _envelope(payload: Any, content_type: str) -> dict[str, Any]:
    """go-mod-messaging's MessageEnvelope, keys in Go's order."""
    return {
        "apiVersion": "v3",
        "receivedTopic": "",
        "correlationID": str(uuid.uuid4()),
        "requestID": str(uuid.uuid4()),
        "errorCode": 0,
        "payload": payload,
        "contentType": content_type,
    }


def _nats_headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "X-Correlation-ID": str(uuid.uuid4()),
        "RequestId": str(uuid.uuid4()),
        "ApiVersion": "v3",
        "ErrorCode": "0",
    }


Wire = tuple[bytes, dict[str, str] | None]
FORMS: dict[str, tuple[str, Callable[[bytes], Wire]]] = {
    # name: (payload content type, payload document bytes -> (body, headers))
    "nats-format-json": (CONTENT_JSON, lambda doc: (doc, _nats_headers(CONTENT_JSON))),
    "nats-format-cbor": (CONTENT_CBOR, lambda doc: (doc, _nats_headers(CONTENT_CBOR))),
    "json-format-v3-base64": (
        CONTENT_JSON,
        lambda doc: (json.dumps(_envelope(base64.b64encode(doc).decode(), CONTENT_JSON)).encode(), None),
    ),
    "json-format-v4-object": (
        CONTENT_JSON,
        lambda doc: (json.dumps(_envelope(json.loads(doc), CONTENT_JSON)).encode(), None),
    ),
    "json-format-cbor-payload": (
        CONTENT_CBOR,
        lambda doc: (json.dumps(_envelope(base64.b64encode(doc).decode(), CONTENT_CBOR)).encode(), None),
    ),
    "cbor-envelope-object": (CONTENT_JSON, lambda doc: (cbor2.dumps(_envelope(json.loads(doc), CONTENT_JSON)), None)),
    "cbor-envelope-cbor-payload": (CONTENT_CBOR, lambda doc: (cbor2.dumps(_envelope(doc, CONTENT_CBOR)), None)),
}


class Cloud:
    """nats-server + ``python -m edgewatch.sync`` + ``python -m edgewatch.receiver``."""

    def __init__(self, tmp: Path) -> None:
        self.nats = NatsServer()
        recv_port, sync_port = free_port(), free_port()
        self.receiver_url = f"http://127.0.0.1:{recv_port}"
        common = {"WRITABLE_LOGLEVEL": "WARN"}
        self.receiver = ServiceProc(
            "edgewatch.receiver",
            {
                **common,
                "SERVICE_PORT": str(recv_port),
                "SERVICE_AUTHTOKEN": TOKEN,
                "RECEIVER_DBPATH": str(tmp / "receiver.db"),
                "EDGEWATCH_DATA_DIR": str(tmp / "recv-data"),
            },
            recv_port,
            tmp,
        )
        self.sync = ServiceProc(
            "edgewatch.sync",
            {
                **common,
                "SERVICE_PORT": str(sync_port),
                "MESSAGEBUS_SERVERS": f"[{self.nats.url}]",
                "SINK_URL": self.receiver_url,
                "SINK_TOKEN": TOKEN,
                "SYNC_GATEWAYID": "gw-forms",
                "SYNC_BATCHLINGER": "0.01",
                "EDGEWATCH_DATA_DIR": str(tmp / "sync-data"),
            },
            sync_port,
            tmp,
        )

    def start(self) -> None:
        self.nats.start()
        self.receiver.start()
        self.sync.start()

    def stop(self) -> None:
        self.sync.stop()
        self.receiver.stop()
        self.nats.cleanup()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    c = Cloud(tmp_path_factory.mktemp("forms"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _events(device: str, binary: bool) -> list[Event]:
    """Three events of ``device``, origins 1 ms apart, two Float32 readings (plus a Binary one for CBOR)."""
    out = []
    for i in range(3):
        origin = 1_767_000_000_000_000_000 + i * 1_000_000
        readings = [
            Reading.simple(device, PROFILE, "Float32", "Float32", 20.5 + i, origin=origin),
            Reading.simple(device, PROFILE, "Int16", "Int16", -i, origin=origin),
        ]
        if binary:
            readings.append(Reading.binary(device, PROFILE, "Image", bytes([i, 255, 0]), "image/jpeg", origin=origin))
        out.append(new_event(device, PROFILE, "All", readings, origin=origin))
    return out


@pytest.mark.parametrize("form", list(FORMS))
async def test_event_form_reaches_the_receiver_as_an_edgex_event(cloud: Cloud, form: str) -> None:
    content_type, wire = FORMS[form]
    device = f"dev-{form}"
    sent = _events(device, binary=content_type == CONTENT_CBOR)
    nc = await nats.connect(cloud.nats.url)
    try:
        for ev in sent:
            body, headers = wire(encode_add_event(AddEventRequest.of(ev), content_type))
            await nc.publish(topics.device_event(SERVICE, PROFILE, device, "All"), body, headers=headers)
        await nc.flush()
    finally:
        await nc.close()
    async with httpx.AsyncClient(base_url=f"{cloud.receiver_url}/api/v3", timeout=5) as api:
        api.headers["Authorization"] = f"Bearer {TOKEN}"

        async def three() -> dict[str, Any] | None:
            doc: dict[str, Any] = (await api.get(f"/event/device/name/{device}")).json()
            return doc if doc.get("totalCount") == 3 else None

        doc = await wait_until(three, 20, message=f"3 events of {device} at the receiver")
    got = doc["events"]
    want = [ev.to_dict() for ev in reversed(sent)]  # EdgeX order: newest origin first
    assert [e.get("id") for e in got] == [e["id"] for e in want], got
    for g, w in zip(got, want, strict=True):
        assert (g["deviceName"], g["profileName"], g["sourceName"], g["origin"]) == (
            w["deviceName"],
            w["profileName"],
            w["sourceName"],
            w["origin"],
        )
        assert g["readings"] == w["readings"]
