"""EdgeX MessageEnvelope: both NATS formats, v3 base64 and v4 object payloads, JSON and CBOR, errors, CBOR envelopes."""

from __future__ import annotations

import json
import logging

import cbor2
import pytest
from nats.aio.msg import Msg
from pydantic import ValidationError

from edgewatch.common.bus import BusDecodeError, NatsBus
from edgewatch.common.bus.envelope import (
    MessageEnvelope,
    decode_envelope,
    decode_envelope_data,
    decode_envelope_parts,
    encode_envelope,
    new_envelope,
    publish_envelope,
    subscribe_envelopes,
)
from edgewatch.common.bus.headers import Headers
from tests.common.bus.fixtures import (
    ADD_EVENT,
    ADD_EVENT_CBOR,
    ADD_EVENT_JSON,
    CORRELATION_ID,
    REQUEST_ID,
    SUBJECT,
    TOPIC,
    b64,
    go_json_envelope,
    nats_headers,
)
from tests.common.bus.rawwire import raw_hpub, raw_next_hmsg
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until

# --- decoding what EdgeX sends ---------------------------------------------------------------------------------


async def test_nats_format_from_go_decodes_headers_and_every_repeated_query_param(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    got: list[MessageEnvelope] = []

    async def on_env(env: MessageEnvelope) -> None:
        got.append(env)

    await subscribe_envelopes(bus, "edgex.events.device.>", on_env)
    await bus.nc.flush()
    headers = [*nats_headers(), ("QueryParams", "ds-pushevent:true"), ("QueryParams", "ds-returnevent:false")]
    await raw_hpub(nats_server.url, SUBJECT, headers, ADD_EVENT_JSON)
    await wait_until(lambda: got)
    env = got[0]
    assert env.received_topic == TOPIC
    assert (env.correlation_id, env.request_id, env.api_version, env.error_code) == (
        CORRELATION_ID,
        REQUEST_ID,
        "v3",
        0,
    )
    assert env.content_type == "application/json"
    assert env.query_params == {"ds-pushevent": "true", "ds-returnevent": "false"}
    assert env.payload == ADD_EVENT_JSON and env.payload_json() == ADD_EVENT


async def test_nats_format_error_response_from_go_carries_text_payload(nats_server: NatsServer, bus: NatsBus) -> None:
    got: list[MessageEnvelope] = []

    async def on_env(env: MessageEnvelope) -> None:
        got.append(env)

    await subscribe_envelopes(bus, "edgex.response.>", on_env)
    await bus.nc.flush()
    text = b"failed to execute GET command: device pump-1 is locked"
    await raw_hpub(nats_server.url, f"edgex.response.core-command.{REQUEST_ID}", nats_headers("text/plain", 1), text)
    await wait_until(lambda: got)
    assert got[0].error_code == 1 and got[0].content_type == "text/plain"
    assert got[0].error_text() == text.decode()


@pytest.mark.parametrize(
    ("body", "content_type", "payload", "doc"),
    [
        pytest.param(
            go_json_envelope(b64(ADD_EVENT_JSON)), "application/json", ADD_EVENT_JSON, ADD_EVENT, id="v3-json-base64"
        ),
        pytest.param(go_json_envelope(ADD_EVENT), "application/json", None, ADD_EVENT, id="v4-json-object"),
        pytest.param(
            go_json_envelope(b64(ADD_EVENT_CBOR), content_type="application/cbor"),
            "application/cbor",
            ADD_EVENT_CBOR,
            ADD_EVENT,
            id="v3-v4-cbor-base64",
        ),
        pytest.param(
            go_json_envelope(b64(b"device not found"), content_type="text/plain", error_code=1),
            "text/plain",
            b"device not found",
            "device not found",
            id="v3-error-base64",
        ),
        pytest.param(
            go_json_envelope("device pump-1 not found", content_type="text/plain", error_code=1),
            "text/plain",
            b"device pump-1 not found",
            "device pump-1 not found",
            id="v4-error-string",
        ),
        pytest.param(go_json_envelope(None), "application/json", b"", None, id="set-response-null-payload"),
    ],
)
def test_json_format_decodes_every_payload_form(
    body: bytes, content_type: str, payload: bytes | None, doc: object
) -> None:
    env = decode_envelope_data(SUBJECT, body, None)
    assert env.received_topic == TOPIC and env.content_type == content_type
    assert (env.correlation_id, env.request_id) == (CORRELATION_ID, REQUEST_ID)
    if payload is not None:
        assert env.payload == payload
    if doc is not None:
        assert env.payload_doc() == doc
    if env.content_type == "application/json" and env.payload:
        assert json.loads(env.payload) == ADD_EVENT  # the bytes of an embedded object are real JSON


def test_json_format_query_params_are_read() -> None:
    env = decode_envelope_data(SUBJECT, go_json_envelope(ADD_EVENT, queryParams={"ds-pushevent": "true"}), None)
    assert env.query_params == {"ds-pushevent": "true"}


@pytest.mark.parametrize(
    "payload",
    [pytest.param(ADD_EVENT, id="c-sdk-embedded-map"), pytest.param(ADD_EVENT_JSON, id="go-byte-string")],
)
def test_cbor_encoded_envelope_is_decoded(payload: object) -> None:
    # EDGEX_MSG_CBOR_ENCODE=true: the whole envelope is CBOR with the same keys
    doc = {
        "apiVersion": "v3",
        "correlationID": CORRELATION_ID,
        "requestID": REQUEST_ID,
        "errorCode": 0,
        "contentType": "application/json",
        "payload": payload,
    }
    env = decode_envelope_data(SUBJECT, cbor2.dumps(doc), None)
    assert env.correlation_id == CORRELATION_ID and env.payload_doc() == ADD_EVENT


def test_cbor_envelope_with_cbor_event_payload_keeps_cbor_bytes() -> None:
    doc = {"apiVersion": "v3", "requestID": REQUEST_ID, "contentType": "application/cbor", "payload": ADD_EVENT_CBOR}
    env = decode_envelope_data(SUBJECT, cbor2.dumps(doc), None)
    assert env.payload == ADD_EVENT_CBOR and env.payload_doc() == ADD_EVENT


@pytest.mark.parametrize(
    ("body", "headers", "match"),
    [
        (b"not an envelope", None, "body starts"),
        (b"{bad json", None, "not an EdgeX envelope"),
        (b"[1,2]", None, "body starts"),
        (b'{"apiVersion":"v3"}', None, "no payload key"),
        (go_json_envelope(ADD_EVENT, errorCode="1"), None, "errorCode"),
        (go_json_envelope(ADD_EVENT, queryParams={"a": 1}), None, "queryParams"),
        (go_json_envelope("not-base64!"), None, "base64"),
        (go_json_envelope(ADD_EVENT, correlationID=5), None, "correlationID"),
        (b"", None, "empty body"),
        (cbor2.dumps([1, 2]), None, "body starts"),
        (ADD_EVENT_JSON, {"RequestId": REQUEST_ID, "ErrorCode": "x"}, "ErrorCode"),
        (ADD_EVENT_JSON, {"RequestId": REQUEST_ID, "QueryParams": "novalue"}, "QueryParams"),
    ],
)
def test_malformed_envelope_raises_bus_decode_error(body: bytes, headers: dict[str, str] | None, match: str) -> None:
    with pytest.raises(BusDecodeError, match=match):
        decode_envelope_data(SUBJECT, body, headers)


def test_nats_format_envelope_equals_the_validated_model_and_validates_foreign_header_values() -> None:
    headers = Headers(
        {"X-Correlation-ID": CORRELATION_ID, "RequestId": REQUEST_ID, "ApiVersion": "v3", "ErrorCode": "0"}
    )
    headers.add("QueryParams", "a:1")
    env = decode_envelope_data(SUBJECT, ADD_EVENT_JSON, headers)
    want = MessageEnvelope(**{name: getattr(env, name) for name in MessageEnvelope.model_fields})
    assert env == want and env.__dict__ == want.__dict__
    assert env.model_fields_set == want.model_fields_set
    assert env.__pydantic_private__ == want.__pydantic_private__
    assert env.payload_doc() == json.loads(ADD_EVENT_JSON)
    with pytest.raises(ValidationError):  # a header value that is no string is still checked by the model
        decode_envelope_data(SUBJECT, ADD_EVENT_JSON, {"RequestId": 7})  # type: ignore[dict-item]


def _repeated_query_params() -> Headers:
    h = Headers({"X-Correlation-ID": CORRELATION_ID, "RequestId": REQUEST_ID, "Content-Type": "application/json"})
    h.add("QueryParams", "a:1")
    h.add("QueryParams", "b:2")
    return h


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (ADD_EVENT_JSON, {"X-Correlation-ID": CORRELATION_ID, "RequestId": REQUEST_ID, "ApiVersion": "v3"}),
        (ADD_EVENT_JSON, {"RequestId": REQUEST_ID, "ErrorCode": ""}),  # no correlation id, no content type
        (ADD_EVENT_CBOR, {"RequestId": REQUEST_ID, "Content-Type": "application/cbor", "ErrorCode": " 1 "}),
        (ADD_EVENT_JSON, _repeated_query_params()),
        (ADD_EVENT_JSON, {"Other": "x"}),  # no envelope header: the body is the envelope
        (go_json_envelope(ADD_EVENT), None),
        (cbor2.dumps({"payload": ADD_EVENT_CBOR, "contentType": "application/cbor", "correlationID": "c"}), None),
        (ADD_EVENT_JSON, {"RequestId": 7}),  # not a string: the model decides, as decode_envelope does
        (b"not an envelope", None),
        (go_json_envelope(ADD_EVENT, errorCode="1"), None),
        (ADD_EVENT_JSON, {"RequestId": REQUEST_ID, "ErrorCode": "x"}),
        (ADD_EVENT_JSON, {"RequestId": REQUEST_ID, "QueryParams": "novalue"}),
        (b"", None),
    ],
)
def test_envelope_parts_are_the_envelope_s_or_its_error(body: bytes, headers: dict[str, str] | None) -> None:
    msg = Msg(None, SUBJECT, "", body, headers)  # type: ignore[arg-type]
    try:
        env = decode_envelope(msg)
    except (BusDecodeError, ValidationError) as e:
        with pytest.raises(type(e)) as got:
            decode_envelope_parts(msg)
        assert str(got.value) == str(e)
    else:
        assert decode_envelope_parts(msg) == (env.payload, env.content_type, env.correlation_id)


# --- encoding what EdgeX reads ---------------------------------------------------------------------------------


def test_json_format_encodes_exact_edgex_keys_in_go_order_with_v4_object_payload() -> None:
    env = new_envelope(ADD_EVENT_JSON, correlation_id=CORRELATION_ID, request_id=REQUEST_ID)
    body, headers = encode_envelope(env, "json")
    assert not headers
    assert body == go_json_envelope(ADD_EVENT)


def test_json_format_v3_encodes_base64_payload_and_query_params_when_set() -> None:
    env = new_envelope(ADD_EVENT_JSON, correlation_id=CORRELATION_ID, request_id=REQUEST_ID, query_params={"a": "1"})
    body, _ = encode_envelope(env, "json", v4=False)
    assert body == go_json_envelope(b64(ADD_EVENT_JSON), queryParams={"a": "1"})


def test_json_format_cbor_content_and_error_text_forms() -> None:
    cbor_env = new_envelope(ADD_EVENT_CBOR, content_type="application/cbor", correlation_id=CORRELATION_ID)
    assert json.loads(encode_envelope(cbor_env, "json")[0])["payload"] == b64(ADD_EVENT_CBOR)
    err = new_envelope(b"device locked", content_type="text/plain", error_code=1)
    assert json.loads(encode_envelope(err, "json")[0])["payload"] == "device locked"  # v4: a Go string
    assert json.loads(encode_envelope(err, "json", v4=False)[0])["payload"] == b64(b"device locked")


async def test_nats_format_puts_one_query_params_header_per_pair_on_the_wire(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    env = new_envelope(ADD_EVENT_JSON, query_params={"ds-pushevent": "true", "ds-returnevent": "false"})

    async def publish() -> None:
        await publish_envelope(bus, SUBJECT, env, "nats")
        await bus.nc.flush()

    pairs, payload = await raw_next_hmsg(nats_server.url, SUBJECT, publish)
    assert payload == ADD_EVENT_JSON
    assert [v for k, v in pairs if k == "QueryParams"] == ["ds-pushevent:true", "ds-returnevent:false"]
    names = [k for k, _ in pairs]
    assert {"X-Correlation-ID", "Content-Type", "RequestId", "ApiVersion", "ErrorCode"} <= set(names)
    assert dict(pairs)["ErrorCode"] == "0" and dict(pairs)["RequestId"] == env.request_id


@pytest.mark.parametrize("fmt", ["nats", "json", "cbor"])
@pytest.mark.parametrize(
    ("payload", "content_type", "error_code"),
    [(ADD_EVENT_JSON, "application/json", 0), (ADD_EVENT_CBOR, "application/cbor", 0), (b"locked", "text/plain", 1)],
)
@pytest.mark.parametrize("v4", [True, False])
async def test_every_format_round_trips_over_the_bus(
    bus: NatsBus, fmt: str, payload: bytes, content_type: str, error_code: int, v4: bool
) -> None:
    got: list[MessageEnvelope] = []

    async def on_env(env: MessageEnvelope) -> None:
        got.append(env)

    await subscribe_envelopes(bus, SUBJECT, on_env)
    sent = new_envelope(payload, content_type=content_type, error_code=error_code, query_params={"k": "v:w"})
    await publish_envelope(bus, SUBJECT, sent, fmt, v4=v4)  # type: ignore[arg-type]
    await wait_until(lambda: got)
    env = got[0]
    assert env.payload_doc() == sent.payload_doc()
    assert (env.request_id, env.correlation_id, env.error_code, env.content_type, env.query_params) == (
        sent.request_id,
        sent.correlation_id,
        error_code,
        content_type,
        {"k": "v:w"},
    )
    assert env.received_topic == TOPIC


# --- malformed messages on a subscription ----------------------------------------------------------------------


async def test_malformed_envelope_is_counted_logged_dead_lettered_and_subscriber_keeps_running(
    bus: NatsBus, caplog: pytest.LogCaptureFixture
) -> None:
    dead: list[tuple[bytes, str, str]] = []
    good: list[MessageEnvelope] = []

    async def on_dead(msg) -> None:  # type: ignore[no-untyped-def]
        dead.append((msg.data, msg.headers["Edgewatch-Reason"], msg.headers["Edgewatch-Subject"]))

    async def on_env(env: MessageEnvelope) -> None:
        good.append(env)

    await bus.subscribe("edgewatch.test-client.deadletter", on_dead)
    await subscribe_envelopes(bus, "edgex.events.>", on_env)
    caplog.set_level(logging.WARNING, logger="edgewatch.common.bus.client")
    await bus.publish(SUBJECT, b"\x00garbage")
    await bus.publish(SUBJECT, go_json_envelope("not-base64!"))
    body, headers = encode_envelope(new_envelope(ADD_EVENT_JSON), "nats")
    await bus.publish(SUBJECT, body, headers)
    await wait_until(lambda: len(dead) == 2 and len(good) == 1)
    assert dead[0][0] == b"\x00garbage" and dead[0][1].startswith("decode: ") and dead[0][2] == SUBJECT
    assert "base64" in dead[1][1]
    assert bus.metrics.dead_letters.labels("decode")._value.get() == 2
    assert sum(r.message == "dead-lettered bus message" for r in caplog.records) == 2
    assert good[0].payload_json() == ADD_EVENT
