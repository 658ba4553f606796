"""A cloud-side MQTT consumer as the MQTT sink's README describes one: a persistent session (clean start never,
session expiry), QoS 1, and dedup by the ``Edgewatch-Key`` user property (the first record of a key is kept)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edgewatch.sync.sinks.mqtt import KEY_PROPERTY

__all__ = ["Delivery", "MqttConsumer"]


@dataclass(frozen=True)
class Delivery:
    """One message as the consumer received it."""

    topic: str
    payload: bytes
    content_type: str
    props: dict[str, str]
    dup: bool


@dataclass
class MqttConsumer:
    """Subscribes ``<prefix>/#`` on a broker and records every delivery; paho's thread reconnects by itself."""

    port: int
    prefix: str = "edgewatch"
    client_id: str = field(default_factory=lambda: f"cloud-consumer-{uuid.uuid4().hex[:8]}")
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: Any = None
    connects: int = 0
    subscribed: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = lambda *_: self.subscribed.set()
        c.reconnect_delay_set(1, 2)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c.connect_async("127.0.0.1", self.port, 30, clean_start=False, properties=props)
        c.loop_start()
        self._client = c

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            self.connects += 1
            if flags.session_present:  # a resumed session keeps its subscription (and what was queued for it)
                self.subscribed.set()
            else:
                client.subscribe(f"{self.prefix}/#", qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        p = msg.properties
        props = dict(getattr(p, "UserProperty", []) or [])
        d = Delivery(msg.topic, bytes(msg.payload), str(getattr(p, "ContentType", "")), props, bool(msg.dup))
        with self._lock:
            self.deliveries.append(d)

    def snapshot(self) -> list[Delivery]:
        """Every delivery so far, in arrival order."""
        with self._lock:
            return list(self.deliveries)

    def unique(self) -> list[Delivery]:
        """The first delivery of each idempotency key, in arrival order (the consumer's dedup)."""
        seen: set[str] = set()
        out = []
        for d in self.snapshot():
            key = d.props[KEY_PROPERTY]
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out
