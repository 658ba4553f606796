"""EdgeX 4 interop over MQTT: ``edgewatch up --mqtt`` and clients speaking EdgeX's MQTT wire format exactly.

A stock EdgeX 4 service talks MQTT 3.1.1 (paho) on ``edgex/...`` topics, QoS 0, each message the whole
MessageEnvelope as JSON with a v4 payload object (COMPAT.md 5.1-5.4). Two paho clients play such services
against the real suite (every ``edgewatch up`` process, nats-server's MQTT listener, the same per-user NATS auth):

- a device service ``device-virtual``: core-metadata validates its device over MQTT; it publishes device
  events that reach features, inference (scores) and, through sync, the cloud receiver as EdgeX Events; it
  receives the command a rule sends through core-command and answers over MQTT, and the rule's alert records
  that answer;
- an application service subscribed to ``edgex/events/#``: it receives an event POSTed to core-data REST as
  an EdgeX envelope.

The envelopes are written out here key by key as go-mod-messaging emits them, not with edgewatch's encoder.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edgewatch.common.contracts.alert import decode_alert
from tests.support.waiting import wait_until
from tests.system.suite_runner import RunningSuite, running_suite

SERVICE, PROFILE, DEVICE = "device-virtual", "mqtt-pump", "mqtt-pump-1"
ALERTS = "edgewatch.rules.alert.mqtt-pump-stop"
PROFILE_DOC = {
    "name": PROFILE,
    "manufacturer": "ACME",
    "model": "P-1",
    "deviceResources": [
        {"name": "Vibration", "properties": {"valueType": "Float32", "readWrite": "R", "units": "mm/s"}},
        {"name": "Temperature", "properties": {"valueType": "Float32", "readWrite": "R", "units": "degC"}},
        {"name": "PumpStop", "properties": {"valueType": "Bool", "readWrite": "RW"}},
    ],
}


def envelope(payload: Any, request_id: str = "", correlation_id: str = "", error_code: int = 0) -> bytes:
    """go-mod-messaging v4's MessageEnvelope JSON (keys in Go's order; a JSON payload embedded as an object)."""
    doc = {
        "apiVersion": "v3",
        "receivedTopic": "",
        "correlationID": correlation_id or str(uuid.uuid4()),
        "requestID": request_id or str(uuid.uuid4()),
        "errorCode": error_code,
        "payload": payload,
        "contentType": "application/json",
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def add_event_request(n: int, origin: int) -> dict[str, Any]:
    """An AddEventRequest as device-sdk-go builds it (random UUIDs, Float32 values in E-notation)."""
    event_id = str(uuid.uuid4())
    readings = [
        {
            "id": str(uuid.uuid4()),
            "origin": origin,
            "deviceName": DEVICE,
            "resourceName": name,
            "profileName": PROFILE,
            "valueType": "Float32",
            "units": units,
            "value": value,
        }
        for name, units, value in (("Vibration", "mm/s", f"{2 + (n % 5) / 4:e}"), ("Temperature", "degC", "4.1e+01"))
    ]
    event = {
        "apiVersion": "v3",
        "id": event_id,
        "deviceName": DEVICE,
        "profileName": PROFILE,
        "sourceName": "Values",
        "origin": origin,
        "readings": readings,
    }
    return {"apiVersion": "v3", "requestId": str(uuid.uuid4()), "event": event}


class EdgeXMqttClient:
    """A paho MQTT 3.1.1 client (as EdgeX's) recording what arrives on its subscriptions."""

    def __init__(self, port: int, token: str, client_id: str, subscriptions: list[str]) -> None:
        self.port = port
        self.subscriptions = subscriptions
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        self.client.username_pw_set("edgex", token)  # nats-server: the `edgex` user's password
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        assert not reason.is_failure, reason
        client.subscribe([(t, 0) for t in self.subscriptions])

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        doc = json.loads(msg.payload)  # every EdgeX message on MQTT is an envelope JSON
        with self._lock:
            self.received.append((msg.topic, doc))
        self.answer(msg.topic, doc)

    def answer(self, topic: str, doc: dict[str, Any]) -> None:
        """Overridden by the device service."""

    def seen(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [(t, d) for t, d in self.received if t.startswith(prefix)]


class DeviceService(EdgeXMqttClient):
    """device-virtual: answers validation and commands as device-sdk-go does (errorCode 0, payload null)."""

    def answer(self, topic: str, doc: dict[str, Any]) -> None:
        if topic.startswith((f"edgex/device/command/request/{SERVICE}/", f"edgex/{SERVICE}/validate/")):
            reply = envelope(None, doc["requestID"], doc["correlationID"])
            self.client.publish(f"edgex/response/{SERVICE}/{doc['requestID']}", reply, qos=0)

    def publish_event(self, request: dict[str, Any]) -> None:
        topic = f"edgex/events/device/{SERVICE}/{PROFILE}/{DEVICE}/Values"
        self.client.publish(topic, envelope(request, request["requestId"]), qos=0)


def _connack(port: int, password: str) -> str:
    """The CONNACK reason an MQTT 3.1.1 client with this password gets."""
    got: list[str] = []
    done = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311)
    c.username_pw_set("edgex", password)
    c.on_connect = lambda _c, _u, _f, reason, _p: (got.append(str(reason)), done.set())
    c.connect("127.0.0.1", port)
    c.loop_start()
    done.wait(5)
    c.disconnect()
    c.loop_stop()
    return got[0] if got else "no CONNACK"


async def _setup_metadata_features_rules(s: RunningSuite) -> None:
    async with httpx.AsyncClient(timeout=10, headers=s.headers) as c:
        svc = {"name": SERVICE, "baseAddress": "http://127.0.0.1:59999", "adminState": "UNLOCKED"}
        r = await c.post(s.url("core_metadata", "/deviceservice"), json=[{"apiVersion": "v3", "service": svc}])
        assert r.status_code == 207 and r.json()[0]["statusCode"] == 201, r.text
        r = await c.post(s.url("core_metadata", "/deviceprofile"), json=[{"apiVersion": "v3", "profile": PROFILE_DOC}])
        assert r.status_code == 207 and r.json()[0]["statusCode"] == 201, r.text
        device = {
            "name": DEVICE,
            "serviceName": SERVICE,
            "profileName": PROFILE,
            "adminState": "UNLOCKED",
            "operatingState": "UP",
            "protocols": {"other": {"Address": "simulated"}},
        }
        r = await c.post(s.url("core_metadata", "/device"), json=[{"apiVersion": "v3", "device": device}])
        assert r.status_code == 207 and r.json()[0]["statusCode"] == 201, r.text  # validated over MQTT
        window = {"basis": "count", "size": 4}
        scalar = {"resources": ["Vibration", "Temperature"], "window": window, "clock": "Vibration"}
        r = await c.put(s.url("features", f"/features/config/{DEVICE}"), json={"scalar": scalar})
        assert r.status_code == 200, r.text
        rule = {
            "name": "mqtt-pump-stop",
            "source": {"kind": "score", "device": DEVICE},
            "condition": {"comparator": ">", "threshold": -1.0},
            "actions": [{"device": DEVICE, "command": "PumpStop", "settings": {"PumpStop": "true"}}],
        }
        r = await c.post(s.url("rules", "/rule"), json=rule)
        assert r.status_code in (200, 201), r.text


async def _records(s: RunningSuite, cls: str) -> list[dict[str, Any]]:
    token = s.cfg.secret("receiver-token")
    doc = await s.get_json("receiver", f"/sync/records?class={cls}&device={DEVICE}&limit=1000", token=token)
    return list(doc["records"])


@pytest.mark.timeout(240)
async def test_edgex_mqtt_services_exchange_events_and_commands_with_edgewatch(tmp_path: Path) -> None:
    async with running_suite(tmp_path / "data", demo=False, mqtt=True) as s:
        token = s.cfg.nats_credentials("edgex")[1]  # EdgeX services log in as the suite's `edgex` NATS user
        assert await asyncio.to_thread(_connack, s.cfg.ports.mqtt, "wrong") == "Not authorized"  # NATS's own auth
        ds = DeviceService(
            s.cfg.ports.mqtt,
            token,
            SERVICE,
            [f"edgex/device/command/request/{SERVICE}/#", f"edgex/{SERVICE}/validate/device",
             f"edgex/system-events/core-metadata/+/+/{SERVICE}/#"],
        )  # fmt: skip
        app = EdgeXMqttClient(s.cfg.ports.mqtt, token, "app-rules-engine", ["edgex/events/#"])
        ds.start()
        app.start()
        try:
            await wait_until(lambda: ds.subscribed.is_set() and app.subscribed.is_set(), 10, message="subscribed")
            await s.tap(ALERTS)
            await _setup_metadata_features_rules(s)
            assert ds.seen(f"edgex/{SERVICE}/validate/device"), "core-metadata validated the device over MQTT"
            await wait_until(
                lambda: any(d["payload"]["action"] == "add" for _, d in ds.seen("edgex/system-events/")),
                10,
                message="the device's system event reached the device service as an envelope",
            )

            # device events: EdgeX envelopes on edgex/events/device/... (QoS 0, as EdgeX publishes)
            now = time.time_ns()
            sent = [add_event_request(n, now - (40 - n) * 100_000_000) for n in range(40)]
            for req in sent:
                ds.publish_event(req)
                await asyncio.sleep(0.005)

            async def cloud_events() -> list[dict[str, Any]] | None:
                token = s.cfg.secret("receiver-token")
                doc = await s.get_json("receiver", f"/event/device/name/{DEVICE}?limit=100", token=token)
                return list(doc["events"]) if doc["totalCount"] == 40 else None

            events = await wait_until(cloud_events, 60, message="40 EdgeX events at the cloud receiver")
            want = [r["event"] for r in reversed(sent)]  # newest origin first
            assert [e["id"] for e in events] == [e["id"] for e in want]
            assert [e["readings"] for e in events] == [e["readings"] for e in want]

            async def has(cls: str) -> bool:
                return len(await _records(s, cls)) > 0

            await wait_until(lambda: has("feature"), 60, message="FeatureVectors of the MQTT device at the receiver")
            await wait_until(lambda: has("score"), 60, message="Scores of the MQTT device at the receiver")

            # the rule's command: core-command -> MQTT -> device service, whose answer returns over MQTT
            commands = f"edgex/device/command/request/{SERVICE}/{DEVICE}/PumpStop/set"
            await wait_until(lambda: ds.seen(commands), 60, message="PumpStop SET at the device service")
            request = ds.seen(commands)[0][1]
            assert request["payload"] == {"PumpStop": "true"} and request["errorCode"] == 0
            assert uuid.UUID(request["requestID"]) and request["contentType"] == "application/json"
            await wait_until(lambda: s.count(ALERTS) > 0, 30, message="the rule's alert")
            action = decode_alert(s.seen[ALERTS][0].data).actions[0]
            assert (action.command, action.result, action.attempts) == ("PumpStop", "ok", 1), action

            # edgewatch -> an EdgeX application service: an event POSTed to core-data arrives as an envelope
            posted = add_event_request(99, time.time_ns())
            path = f"/event/{SERVICE}/{PROFILE}/{DEVICE}/Values"
            async with httpx.AsyncClient(timeout=10, headers=s.headers) as c:
                r = await c.post(s.url("core_data", path), json=posted)
                assert r.status_code == 201, r.text
            core_topic = f"edgex/events/core/{SERVICE}/{PROFILE}/{DEVICE}/Values"
            await wait_until(lambda: app.seen(core_topic), 10, message="the core-data event at the app service")
            got = app.seen(core_topic)[0][1]
            assert got["payload"]["event"]["id"] == posted["event"]["id"] and got["errorCode"] == 0
            assert len(app.seen("edgex/events/device/")) == 40  # and every device event, MQTT to MQTT
            report = {
                "eventsAtReceiver": len(events),
                "featureRecords": len(await _records(s, "feature")),
                "scoreRecords": len(await _records(s, "score")),
                "commandsAtDeviceService": len(ds.seen(commands)),
                "alertAction": f"{action.command} {action.result} after {action.attempts} attempt(s)",
                "appServiceEnvelopes": len(app.seen("edgex/events/")),
            }
            print("MQTT-INTEROP", json.dumps(report))
        finally:
            ds.stop()
            app.stop()
