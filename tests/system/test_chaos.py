"""Chaos under load: with events flowing and a rule acting, every service of `edgewatch up` is killed with SIGKILL in
turn (the supervisor restarts it), then nats-server; every alert and every command is delivered, and sync loses
and duplicates nothing.

The test plays an EdgeX device service ``chaos-ds`` (registered with core-metadata): it publishes its pumps'
EdgeX events at RATE/s and answers the commands sent to it. Every TRIGGER_EVERY-th event the ``trip`` pump
alternately crosses and clears a reading rule whose raise SETs PumpStop (straight from rules: Actuation.Route
direct; through core-command, which runs with core in the background group's process, while rules' metadata
replica is not loaded).

Counted (the oracle):
- alerts: every Alert seen on the bus (by id) is at the cloud receiver;
- commands: every raise seen on the bus reports its SET ``ok``, and the device service received a SET carrying
  that raise's correlation id (rules retries through a restart: ``ACTUATION_ATTEMPTS`` 12, about 45 s of retries,
  where the default 4 cover about 3.5 s);
- sync: for every class, stream sequences 1..last are at the receiver exactly once, none dropped by policy.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus.envelope import CONTENT_JSON, MessageEnvelope, decode_envelope, encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.alert import Alert, decode_alert
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import encode_add_event
from edgewatch.receiver.client import ReceiverClient
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.streams import stream_name
from edgewatch.syncwire.batch import DataClass
from tests.support.waiting import wait_until
from tests.system.suite_runner import RunningSuite, kill_and_wait_restart, running_suite

DS, PROFILE_NAME, TRIP = "chaos-ds", "chaos-pump", "trip"
PUMPS = [TRIP, "bg-1", "bg-2", "bg-3"]
RATE = 50  # events/s
TRIGGER_EVERY = 5  # the trip pump: 10 events/s, alternately crossing and clearing: 5 raises/s
KILLS = [  # (child, a port it answers ping on)
    ("edgewatch-rules", "rules"),
    ("edgewatch-background", "sync"),  # core (metadata, data, command), sync and the console: one process
    ("edgewatch-analytics", "features"),  # features and inference: one process
    ("edgewatch-receiver", "receiver"),
    ("edgewatch-ingest", "ingest"),
]
PROFILE = {
    "name": PROFILE_NAME,
    "manufacturer": "edgewatch",
    "model": "chaos",
    "deviceResources": [
        {"name": "ChaosCurrent", "properties": {"valueType": "Float32", "readWrite": "R"}},
        {"name": "PumpStop", "properties": {"valueType": "Bool", "readWrite": "RW"}},
    ],
}
RULE = {
    "name": "chaos-trip",
    "source": {"kind": "reading", "device": "*", "name": "ChaosCurrent"},
    "condition": {"comparator": ">", "threshold": 12.0, "clearThreshold": 11.0},
    "actions": [{"command": "PumpStop", "settings": {"PumpStop": "true"}}],
}


class Plant:
    """chaos-ds: publishes its pumps' events and answers command requests; taps alerts."""

    def __init__(self, s: RunningSuite) -> None:
        self.s = s
        self.alerts: dict[str, Alert] = {}
        self.sets: set[str] = set()  # correlation ids of the SETs received
        self.sent = 0
        self.stop = asyncio.Event()

    async def start(self) -> None:
        await self.s.nc.subscribe(topics.device_command_request_all(DS), cb=self._command)
        await self.s.nc.subscribe(topics.alert_all(), cb=self._alert)
        await self.s.nc.flush()

    async def _command(self, msg: Msg) -> None:
        env = decode_envelope(msg)
        if msg.subject.endswith(".set"):
            self.sets.add(env.correlation_id)
        reply = MessageEnvelope(
            api_version="v3",
            correlation_id=env.correlation_id,
            request_id=env.request_id,
            error_code=0,
            payload=b"",
            content_type=CONTENT_JSON,
        )
        body, headers = encode_envelope(reply, "nats")
        await self.s.nc.publish(topics.response(DS, env.request_id), body, headers=headers or None)

    async def _alert(self, msg: Msg) -> None:
        a = decode_alert(msg.data)
        self.alerts[a.id] = a

    async def publish(self) -> None:
        i, crossing = 0, True
        next_t = time.monotonic()
        while not self.stop.is_set():
            if i % TRIGGER_EVERY == 0:
                device, current = TRIP, 14.0 if crossing else 9.0
                crossing = not crossing
            else:
                device, current = PUMPS[1 + i % 3], 10.0
            origin = time.time_ns()
            readings = [
                Reading.simple(device, PROFILE_NAME, "ChaosCurrent", "Float32", current, origin=origin),
                Reading.simple(device, PROFILE_NAME, "PumpStop", "Bool", False, origin=origin),
            ]
            ev = new_event(device, PROFILE_NAME, "all", readings, origin=origin)
            body, headers = encode_envelope(new_envelope(encode_add_event(AddEventRequest.of(ev))), "nats")
            try:
                await self.s.nc.publish(topics.device_event(DS, PROFILE_NAME, device, "all"), body, headers=headers)
                self.sent += 1
            except Exception:  # the client's reconnect buffer is full while nats-server restarts: not sent
                pass
            i += 1
            next_t += 1 / RATE
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))

    def raises(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.state == "raised" and a.actions]


async def _register(s: RunningSuite) -> None:
    async with httpx.AsyncClient(base_url=s.url("core_metadata", ""), headers=s.headers, timeout=10) as meta:
        svc = {"name": DS, "baseAddress": "http://127.0.0.1:1", "adminState": "UNLOCKED"}
        (await meta.post("/deviceservice", json=[{"apiVersion": "v3", "service": svc}])).raise_for_status()
        (await meta.post("/deviceprofile", json=[{"apiVersion": "v3", "profile": PROFILE}])).raise_for_status()
        devices = [
            {
                "apiVersion": "v3",
                "device": {
                    "name": d,
                    "serviceName": DS,
                    "profileName": PROFILE_NAME,
                    "adminState": "UNLOCKED",
                    "operatingState": "UP",
                    "protocols": {"other": {"Address": "chaos"}},
                },
            }
            for d in PUMPS
        ]
        r = await meta.post("/device", params={"bypassValidation": "true"}, json=devices)
        assert r.status_code < 300 and all(x["statusCode"] == 201 for x in r.json()), r.text
    async with httpx.AsyncClient(base_url=s.url("rules", ""), headers=s.headers, timeout=10) as rules:
        (await rules.post("/rule", json=RULE)).raise_for_status()


async def _records(s: RunningSuite, cls: DataClass) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with ReceiverClient(s.url("receiver", "")[: -len("/api/v3")], token=s.cfg.secret("receiver-token")) as rc:
        after = 0
        while True:
            after, page = await rc.records(cls, after=after, limit=1000)
            if not page:
                return out
            out += page


@pytest.mark.timeout(400)
async def test_kill_9_of_every_service_and_nats_server_under_load_delivers_every_alert_and_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTUATION_ATTEMPTS", "12")  # the suite's children inherit the environment
    async with running_suite(tmp_path / "data", demo=False) as s:
        plant = Plant(s)
        await plant.start()
        await _register(s)
        load = asyncio.create_task(plant.publish())
        try:
            await wait_until(lambda: len(plant.raises()) >= 3, timeout=60, message="the rule acts before the kills")
            for name, port_name in KILLS:
                await kill_and_wait_restart(s, name, port_name)
            nats_child = s.sup.child("nats-server")
            assert nats_child.proc is not None
            nats_child.proc.kill()
            await wait_until(lambda: nats_child.restarts == 1, timeout=30, message="nats-server restarted")
            await wait_until(lambda: s.nc.is_connected, timeout=30, message="the test's connection is back")
            n = len(plant.raises())
            await wait_until(lambda: len(plant.raises()) >= n + 3, timeout=60, message="the rule acts after it all")
        finally:
            plant.stop.set()
            await load

        # every raise's command delivered: reported ok, and the device service got a SET with its correlation id
        async def commands_done() -> bool:
            return all(a.correlation_id in plant.sets for a in plant.raises())

        await wait_until(commands_done, timeout=60, message="a SET at the device for every raise")
        raises = plant.raises()
        failed = [a.actions[0].error for a in raises if a.actions[0].result != "ok"]
        assert not failed, failed

        # every alert seen on the bus is at the receiver
        async def alerts_at_receiver() -> bool:
            ids = {r["data"]["id"] for r in await _records(s, DataClass.ALERT)}
            return set(plant.alerts) <= ids

        await wait_until(alerts_at_receiver, timeout=90, interval=0.5, message="every alert at the receiver")

        # sync: every stored message of every class at the receiver exactly once, none dropped
        js = s.nc.jetstream()
        settings = SyncSettings()
        counts = {}
        for cls in DataClass:
            last = (await js.stream_info(stream_name(settings, cls))).state.last_seq

            async def delivered(cls: DataClass = cls, last: int = last) -> tuple[list[dict[str, Any]]] | None:
                recs = [r for r in await _records(s, cls) if r["streamSeq"] <= last]
                return (recs,) if len(recs) >= last else None

            (recs,) = await wait_until(delivered, timeout=90, interval=0.5, message=f"all {cls.value} records")
            seqs = sorted(r["streamSeq"] for r in recs)
            assert seqs == list(range(1, last + 1)), f"{cls.value}: missing or duplicated records"
            assert len({r["key"] for r in recs}) == len(recs), f"{cls.value}: duplicate keys"
            counts[cls.value] = last
        status = await s.get_json("sync", "/sync/status")
        assert all(c["droppedMessages"] == 0 for c in status["classes"].values()), status
        restarts = {c.spec.name: c.restarts for c in s.sup.children if c.restarts}
        assert restarts == {**{name: 1 for name, _ in KILLS}, "nats-server": 1}, restarts
        print(
            f"chaos: {plant.sent} events sent; {len(plant.alerts)} alerts seen, all at the receiver; "
            f"{len(raises)} raises, {len(raises)} SETs delivered (ok); sync records per class (all exactly once): "
            f"{counts}; restarts {restarts}"
        )
