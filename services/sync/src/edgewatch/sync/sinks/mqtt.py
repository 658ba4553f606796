"""MQTT sink: publish each record to an MQTT 5 broker with QoS 1 on a persistent session.

A batch counts as delivered when the broker acknowledged (PUBACK, success reason code) every record of it on
one connection; anything else (no connection, a disconnect or timeout mid-batch, a refusing reason code) is a
SinkError: the connection is dropped and the uplink sends the same batch again on a new one. So the
store-and-forward guarantees are the HTTP sink's: nothing leaves the local stream before the broker holds it,
order per device is the stream order (one batch in flight, and MQTT keeps a publisher's order per topic), and a
re-sent record carries the same idempotency key (user property ``Edgewatch-Key``) for the consumer to drop it.
That is the consumer's job here: a broker does not deduplicate. The session is persistent (clean start never,
``Sink.MqttSessionExpiry``), but an abandoned attempt is never retransmitted by the client library (a new
connection starts with nothing queued): paho would resend it after the retry began, out of order. One limit:
a broker that refuses a single record (an error reason code) while later ones of the batch are already in
flight (at most the window, ``Sink.MqttMaxInflight`` capped by the broker's Receive Maximum) may have delivered
those before the re-sent batch brings the refused one; ``Edgewatch-Seq`` lets a consumer restore the order.

Topic: ``<Sink.MqttTopicPrefix>/<gateway>/<class>/<device>``. Payload: the record's bytes as sync buffered them
(events: the EdgeX AddEventRequest, JSON or CBOR; features, scores, alerts: the suite's msgpack), content type
in the MQTT Content-Type property, the record header in user properties (names below). paho-mqtt runs each
connection in its network thread; its callbacks only hand results to the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edgewatch.sync.config import SinkSection
from edgewatch.sync.record import DEFAULT_CONTENT_TYPE
from edgewatch.sync.sinks.base import SinkError
from edgewatch.sync.sinks.receiver import read_token
from edgewatch.syncwire.batch import BatchAck, BatchHeader, RecordRow

__all__ = [
    "CLASS_PROPERTY",
    "DEVICE_PROPERTY",
    "GATEWAY_PROPERTY",
    "KEY_PROPERTY",
    "SEQ_PROPERTY",
    "STREAM_PROPERTY",
    "STREAM_SEQ_PROPERTY",
    "SUBJECT_PROPERTY",
    "TS_PROPERTY",
    "MqttSink",
    "record_topic",
]

log = logging.getLogger(__name__)

KEY_PROPERTY: Final = "Edgewatch-Key"
"""The record's idempotency key: a consumer keeps the first record of each key."""
GATEWAY_PROPERTY: Final = "Edgewatch-Gateway"
CLASS_PROPERTY: Final = "Edgewatch-Class"
DEVICE_PROPERTY: Final = "Edgewatch-Device"
SEQ_PROPERTY: Final = "Edgewatch-Seq"
"""Per-device sequence (the producer's ``Edgewatch-Seq`` header, else the stream sequence)."""
SUBJECT_PROPERTY: Final = "Edgewatch-Subject"
STREAM_PROPERTY: Final = "Edgewatch-Stream"
STREAM_SEQ_PROPERTY: Final = "Edgewatch-Stream-Seq"
TS_PROPERTY: Final = "Edgewatch-Ts"
"""Edge JetStream store time, Unix ns."""

_TOPIC_UNSAFE = str.maketrans({"/": "_", "+": "_", "#": "_", "\0": "_"})
_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def _level(text: str) -> str:
    return text.translate(_TOPIC_UNSAFE) or "_"


def record_topic(prefix: str, header: BatchHeader, device: str) -> str:
    """``<prefix>/<gateway>/<class>/<device>`` (gateway and device made single topic levels)."""
    return f"{prefix}/{_level(header.gateway)}/{header.data_class.value}/{_level(device)}"


class _Connection:
    """One paho client and connection: its CONNACK, the PUBACKs it waits for, and the broker's receive window."""

    def __init__(self, client: mqtt.Client, loop: asyncio.AbstractEventLoop, max_inflight: int) -> None:
        self.client = client
        self.loop = loop
        self.connack: asyncio.Future[None] = loop.create_future()
        self.pending: dict[int, asyncio.Future[None]] = {}
        self.window = max_inflight
        self.lost = ""
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish

    def _call(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop (paho calls back from its network thread)."""
        if not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(fn, *args)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Properties | None
    ) -> None:
        receive_max = getattr(props, "ReceiveMaximum", 65535) if props is not None else 65535
        self._call(self._connected, reason.is_failure, str(reason), receive_max)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._call(self.fail, f"disconnected: {reason}")

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Properties | None
    ) -> None:
        self._call(self._acked, mid, reason.is_failure, str(reason))

    def _connected(self, failed: bool, reason: str, receive_max: int) -> None:
        self.window = max(1, min(self.window, receive_max))  # never more unacknowledged than the broker accepts
        if self.connack.done():
            return
        if failed:
            self.connack.set_exception(SinkError(f"MQTT broker refused the connection: {reason}"))
        else:
            self.connack.set_result(None)

    def _acked(self, mid: int, failed: bool, reason: str) -> None:
        fut = self.pending.pop(mid, None)
        if fut is None or fut.done():
            return
        if failed:
            fut.set_exception(SinkError(f"MQTT broker refused a record: {reason}"))
        else:
            fut.set_result(None)

    def fail(self, why: str) -> None:
        """The connection is gone: whatever waits on it fails."""
        self.lost = self.lost or why
        if not self.connack.done():
            self.connack.set_exception(SinkError(f"MQTT broker {why}"))
        pending, self.pending = self.pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(SinkError(f"MQTT broker {why}"))


class MqttSink:
    """Delivers batches to an MQTT 5 broker (QoS 1, persistent session)."""

    name = "mqtt"

    def __init__(self, settings: SinkSection, gateway: str) -> None:
        self.settings = settings
        self.gateway = gateway
        url = urlsplit(settings.url)
        self._tls = url.scheme == "mqtts"
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or _DEFAULT_PORTS.get(url.scheme, 1883)
        self._conn: _Connection | None = None
        self._up = False

    async def start(self) -> None:
        """Nothing to open yet: the first batch connects (an unreachable broker is an uplink outage)."""

    async def close(self) -> None:
        await self._drop("sink closed")

    def _client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.mqtt_client_id or f"edgewatch-sync-{self.gateway}",
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        if s.mqtt_username:
            try:
                password = read_token(s) or None
            except OSError as e:
                raise SinkError(f"Sink.TokenFile: {e}") from e
            client.username_pw_set(s.mqtt_username, password)
        if self._tls:
            cert, key = s.mqtt_cert_file or None, s.mqtt_key_file or None
            client.tls_set(ca_certs=s.ca_file or None, certfile=cert, keyfile=key)
            client.tls_insecure_set(not s.verify_tls)
        client.connect_timeout = s.timeout
        client.max_inflight_messages_set(0)  # send() keeps the window (paho cannot change it once connected)
        client.max_queued_messages_set(0)
        return client

    async def _connect(self) -> _Connection:
        s = self.settings
        conn = _Connection(self._client(), asyncio.get_running_loop(), s.mqtt_max_inflight)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.mqtt_session_expiry
        self._conn = conn
        try:
            async with asyncio.timeout(s.timeout):
                await asyncio.to_thread(
                    conn.client.connect, self._host, self._port, s.mqtt_keepalive, clean_start=False, properties=props
                )
                conn.client.loop_start()
                await conn.connack
        except (OSError, TimeoutError, ValueError, SinkError) as e:
            await self._drop(f"connect: {e}")
            raise SinkError(f"MQTT broker {self._host}:{self._port}: {type(e).__name__}: {e}") from e
        if not self._up:
            log.info("MQTT broker connected", extra={"host": self._host, "port": self._port})
            self._up = True
        return conn

    async def _drop(self, why: str) -> None:
        """Close the connection (so nothing of an abandoned attempt is sent later) and fail what waits on it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._up and why != "sink closed":
            log.warning("MQTT broker connection dropped", extra={"reason": (conn.lost or why)[:300]})
        self._up = False
        conn.fail(why)
        conn.client.disconnect()
        await asyncio.to_thread(conn.client.loop_stop)

    def _properties(self, header: BatchHeader, r: RecordRow) -> Properties:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ContentType = r.content_type or DEFAULT_CONTENT_TYPE[header.data_class]
        props.UserProperty = [
            (KEY_PROPERTY, r.resolved_key(header.gateway, header.stream)),
            (GATEWAY_PROPERTY, header.gateway),
            (CLASS_PROPERTY, header.data_class.value),
            (DEVICE_PROPERTY, r.device),
            (SEQ_PROPERTY, str(r.seq)),
            (SUBJECT_PROPERTY, r.subject),
            (STREAM_PROPERTY, header.stream),
            (STREAM_SEQ_PROPERTY, str(r.stream_seq)),
            (TS_PROPERTY, str(r.ts_ns)),
        ]
        return props

    async def send(self, header: BatchHeader, records: list[RecordRow], body: bytes) -> BatchAck:
        if self._conn is not None and self._conn.lost:
            await self._drop(self._conn.lost)  # lost between batches: reconnect now rather than fail this attempt
        conn = self._conn or await self._connect()
        try:
            await self._publish(conn, header, records)
        except SinkError as e:
            await self._drop(str(e))
            raise
        except TimeoutError as e:
            await self._drop("timeout")
            raise SinkError(f"MQTT broker did not acknowledge the batch within {self.settings.timeout:g}s") from e
        return BatchAck(batch_id=header.batch_id, accepted=len(records), duplicates=0)

    async def _publish(self, conn: _Connection, header: BatchHeader, records: list[RecordRow]) -> None:
        """Publish every record (QoS 1) within the broker's window and wait for all PUBACKs."""
        window = asyncio.Semaphore(conn.window)
        waits: list[asyncio.Future[None]] = []
        try:
            async with asyncio.timeout(self.settings.timeout):
                for r in records:
                    await window.acquire()
                    if conn.lost:
                        raise SinkError(f"MQTT broker {conn.lost}")
                    topic = record_topic(self.settings.mqtt_topic_prefix, header, r.device)
                    info = conn.client.publish(topic, r.payload, qos=1, properties=self._properties(header, r))
                    if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        raise SinkError(f"MQTT publish: {mqtt.error_string(info.rc)}")
                    fut = conn.loop.create_future()
                    fut.add_done_callback(lambda _: window.release())
                    conn.pending[info.mid] = fut  # its PUBACK is handed to the loop, so it is seen after this line
                    waits.append(fut)
                await asyncio.gather(*waits)
        finally:
            for fut in waits:
                if not fut.done():
                    fut.cancel()
                elif not fut.cancelled():
                    fut.exception()  # retrieved: the first failure is what gather raised
