"""Fuzz core's entry points with hostile input: profile uploads (YAML), devices and provision watchers (JSON),
device definition files, events over REST (JSON, CBOR) and on the bus. Every input is answered without a 5xx
within the parse worker's budget, and core answers ping after each one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.yamlcompat import load_device_definitions
from tests.core.conftest import Core, core_settings, start_core, stop_core
from tests.core.helpers import device_doc, event_doc, profile_req, service_req
from tests.fuzz.report import EntryStats, fuzz_settings
from tests.fuzz.strategies import json_bodies, json_values, mutated, yaml_documents
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until

PROFILE_YAML = """name: fuzz
manufacturer: ACME
deviceResources:
  - name: t
    attributes: &attrs {primaryTable: HOLDING_REGISTERS, startingAddress: 0}
    properties: {valueType: Float32, readWrite: R, units: C, defaultValue: "0.0"}
  - name: sw
    attributes: *attrs
    properties: {valueType: Bool, readWrite: RW}
deviceCommands:
  - name: Both
    readWrite: R
    resourceOperations: [{deviceResource: t}, {deviceResource: sw}]
"""
DEVICES_YAML = """deviceList:
  - name: fuzz-dev
    profileName: P
    protocols: {modbus-tcp: {Address: 127.0.0.1, Port: 502}}
    autoEvents: [{interval: 1s, sourceName: t}]
"""
FUZZ_SERVICE = {"MaxRequestSize": 256, "ParseTimeout": 2.0, "RequestTimeout": 1.0}


@pytest.fixture
async def core(nats_server: NatsServer) -> AsyncIterator[Core]:
    """core with small limits (size refusals are cheap to reach) and a device service, profile and device."""
    _host, c = await start_core(core_settings(nats_server, Service=FUZZ_SERVICE))
    await c.meta.post("/deviceservice", json=[service_req("svc")])
    await c.meta.post("/deviceprofile", json=[profile_req("P")])
    # a first upload starts the parse worker, so the figures are of inputs, not of a process start
    await c.meta.post("/deviceprofile/uploadfile", files={"file": ("warm.yaml", PROFILE_YAML.replace("fuzz", "warm"))})
    try:
        yield c
    finally:
        await stop_core(c)


async def _alive(core: Core) -> None:
    for client in (core.meta, core.data, core.command):
        assert (await client.get("/ping")).status_code == 200


async def _answer(stats: EntryStats, core: Core, size: int, call: Any) -> None:
    with stats.timed(size):
        r = await call
    stats.saw(r.status_code)
    assert r.status_code < 500, r.text
    body = r.json()
    if r.status_code >= 400:
        assert body["statusCode"] == r.status_code and body["message"]
    await _alive(core)


@fuzz_settings()
@given(doc=yaml_documents(PROFILE_YAML), put=st.booleans())
async def test_fuzz_profile_upload(core: Core, entry: Callable[[str], EntryStats], doc: bytes, put: bool) -> None:
    stats = entry("core-metadata POST|PUT /deviceprofile/uploadfile (YAML)")
    method = core.meta.put if put else core.meta.post
    await _answer(stats, core, len(doc), method("/deviceprofile/uploadfile", files={"file": ("p.yaml", doc)}))


@fuzz_settings()
@given(
    body=json_bodies(
        [{"apiVersion": "v3", "device": device_doc("d1", autoEvents=[{"interval": "1s", "sourceName": "t"}])}]
    )
)
async def test_fuzz_device_post(core: Core, entry: Callable[[str], EntryStats], body: bytes) -> None:
    stats = entry("core-metadata POST /device (JSON)")
    call = core.meta.post("/device?bypassValidation=true", content=body, headers={"content-type": "application/json"})
    await _answer(stats, core, len(body), call)


WATCHER = {
    "apiVersion": "v3",
    "provisionWatcher": {
        "name": "w1",
        "serviceName": "svc",
        "identifiers": {"address": "10\\.0\\..*"},
        "discoveredDevice": {"profileName": "P", "protocols": {"modbus-tcp": {"Address": "x"}}},
        "adminState": "UNLOCKED",
    },
}


@fuzz_settings()
@given(body=json_bodies([WATCHER]))
async def test_fuzz_provision_watcher_post(core: Core, entry: Callable[[str], EntryStats], body: bytes) -> None:
    stats = entry("core-metadata POST /provisionwatcher (JSON)")
    call = core.meta.post("/provisionwatcher", content=body, headers={"content-type": "application/json"})
    await _answer(stats, core, len(body), call)


@fuzz_settings(scale=3)
@given(doc=yaml_documents(DEVICES_YAML) | json_bodies([device_doc("d2")]))
def test_fuzz_device_definition_files(entry: Callable[[str], EntryStats], doc: bytes) -> None:
    stats = entry("core device definition files (YAML / JSON)")
    with stats.timed(len(doc)):
        try:
            load_device_definitions(doc.decode("utf-8", "replace"), service_name="svc")
            stats.saw("loaded")
        except EdgeXError as e:
            stats.saw(e.status)
            assert e.status < 500


def _event_bodies() -> st.SearchStrategy[tuple[bytes, str]]:
    valid = {"apiVersion": "v3", "event": event_doc()}
    as_json = json_bodies(valid).map(lambda b: (b, "application/json"))
    as_cbor = st.one_of(json_values(), st.just(valid)).map(lambda v: (cbor2.dumps(v), "application/cbor"))
    cbor_mut = mutated(cbor2.dumps(valid)).map(lambda b: (b, "application/cbor"))
    return st.one_of(as_json, as_cbor, cbor_mut)


@fuzz_settings()
@given(body=_event_bodies())
async def test_fuzz_event_post(core: Core, entry: Callable[[str], EntryStats], body: tuple[bytes, str]) -> None:
    stats = entry("core-data POST /event (JSON, CBOR)")
    data, ct = body
    await _answer(
        stats, core, len(data), core.data.post("/event/svc/P/d1/t", content=data, headers={"content-type": ct})
    )


@fuzz_settings()
@given(body=_event_bodies(), fmt=st.sampled_from(["nats", "json"]))
async def test_fuzz_bus_events(
    core: Core, bus: NatsBus, entry: Callable[[str], EntryStats], body: tuple[bytes, str], fmt: str
) -> None:
    """A fuzzed event, then a valid marker: the marker stored means the fuzzed one was handled."""
    stats = entry("core-data bus events (EdgeX envelopes, JSON and CBOR payloads)")
    data, ct = body
    subject = topics.device_event("svc", "P", "d1", "t")
    mark = event_doc()
    marker = json.dumps({"apiVersion": "v3", "event": mark}).encode()
    with stats.timed(len(data)):
        out, headers = encode_envelope(new_envelope(data, content_type=ct), fmt)  # type: ignore[arg-type]
        await bus.publish(subject, out, headers)
        out, headers = encode_envelope(new_envelope(marker), fmt)  # type: ignore[arg-type]
        await bus.publish(subject, out, headers)
        await wait_until(lambda: _stored(core, mark["id"]), timeout=30, message="the marker after a fuzzed event")
    stats.saw("handled")
    await _alive(core)


async def _stored(core: Core, event_id: str) -> bool:
    return (await core.data.get(f"/event/id/{event_id}")).status_code == 200
