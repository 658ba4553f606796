"""Fuzz the other services' entry points: rules (REST JSON and rule files), feature configuration, model uploads
and the receiver's batch intake. No input gets a 5xx, each is answered within the parse worker's budget, and the
service answers ping after each one."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from edgewatch.common.service.host import ServiceHost
from edgewatch.inference.baseline import build_standardized_distance
from edgewatch.rules.store import RuleFileError, load_rule_file
from edgewatch.syncwire.batch import BATCH_CONTENT_TYPE, DataClass, encode_rows
from tests.fuzz.report import EntryStats, fuzz_settings
from tests.fuzz.strategies import json_bodies, mutated, yaml_documents
from tests.receiver.test_receiver import _batch
from tests.support.hostile import zstd_bomb

SERVICE = {"MaxRequestSize": 256, "ParseTimeout": 2.0}
RULE = {
    "name": "fuzz-rule",
    "source": {"kind": "score", "device": "pump"},
    "condition": {"comparator": ">", "threshold": 5.0, "clearThreshold": 4.0},
    "debounce": {"count": 2},
    "actions": [{"device": "pump", "command": "Stop", "settings": {"Stop": "true"}}],
}
RULE_YAML = """name: fuzz-rule
source: {kind: score, device: pump}
condition: {comparator: '>', threshold: 5.0}
actions:
  - &act {device: pump, command: Stop, settings: {Stop: "true"}}
"""
FEATURES = {
    "waveforms": [
        {"resource": "Vib", "sampleRateHz": 1000.0, "window": {"basis": "count", "size": 1024}, "bands": [[10, 100]]}
    ],
    "scalar": {"window": {"basis": "time", "size": 5000}},
}
NAMES = ["a", "b", "c"]
BATCH_HEADERS = {"Content-Type": BATCH_CONTENT_TYPE, "Content-Encoding": "zstd"}


@pytest.fixture
async def service(build_service: Any) -> AsyncIterator[Callable[..., Any]]:
    """``await service(name, **sections)``: the test's one started instance of a service (hypothesis runs every
    example in the same test call, so the first example starts it), with small limits and a client on its app."""
    started: dict[str, tuple[ServiceHost, httpx.AsyncClient]] = {}

    async def get(name: str, **sections: Any) -> httpx.AsyncClient:
        if name not in started:
            host = build_service(name, Service=SERVICE, **sections)
            await host.__aenter__()
            client = httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url=f"http://{name}")
            started[name] = (host, client)
            await _warm(name, client)
        return started[name][1]

    yield get
    for host, client in reversed(started.values()):
        await client.aclose()
        await host.__aexit__(None, None, None)


async def _warm(name: str, client: httpx.AsyncClient) -> None:
    """One input through the parse worker, so the figures are of inputs, not of a process start."""
    if name == "inference":
        await client.post("/api/v3/model", json={**_upload(_MODEL), "version": "warm"})
    elif name == "receiver":
        await client.post("/api/v3/sync/batch", content=zstd_bomb(2 << 20), headers=BATCH_HEADERS)


async def _answer(stats: EntryStats, client: httpx.AsyncClient, size: int, call: Any) -> None:
    with stats.timed(size):
        r = await call
    stats.saw(r.status_code)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["message"]
    assert (await client.get("/api/v3/ping")).status_code == 200


@fuzz_settings()
@given(body=json_bodies(RULE), validate=st.booleans())
async def test_fuzz_rule_post(service: Any, entry: Callable[[str], EntryStats], body: bytes, validate: bool) -> None:
    stats = entry("rules POST /rule, /rule/validate (JSON)")
    c = await service("rules")
    path = "/api/v3/rule/validate" if validate else "/api/v3/rule"
    await _answer(stats, c, len(body), c.post(path, content=body, headers={"content-type": "application/json"}))
    if not validate:
        await c.delete("/api/v3/rule/name/fuzz-rule")


@fuzz_settings(scale=3)
@given(doc=yaml_documents(RULE_YAML))
def test_fuzz_rule_files(
    tmp_path_factory: pytest.TempPathFactory, entry: Callable[[str], EntryStats], doc: bytes
) -> None:
    stats = entry("rules rule files (YAML / JSON)")
    f = tmp_path_factory.mktemp("rules") / "r.yaml"
    f.write_bytes(doc)
    with stats.timed(len(doc)):
        try:
            load_rule_file(f)
            stats.saw("loaded")
        except RuleFileError:
            stats.saw("refused")


@fuzz_settings()
@given(body=json_bodies(FEATURES))
async def test_fuzz_feature_config(service: Any, entry: Callable[[str], EntryStats], body: bytes) -> None:
    stats = entry("features PUT /features/config/{device} (JSON)")
    c = await service("features")
    call = c.put("/api/v3/features/config/pump", content=body, headers={"content-type": "application/json"})
    await _answer(stats, c, len(body), call)


def _upload(model: bytes) -> dict[str, Any]:
    return {
        "name": "m",
        "version": "1",
        "inputNames": NAMES,
        "threshold": 5.0,
        "golden": {"input": [1.0, 1.0, 1.0], "expectedScore": 0.0},
        "model": base64.b64encode(model).decode(),
        "activate": False,
    }


_MODEL = build_standardized_distance(NAMES, np.ones(3), np.ones(3))


def _uploads() -> st.SearchStrategy[bytes]:
    mutated_model = mutated(_MODEL).map(lambda m: json.dumps(_upload(m)).encode())
    return st.one_of(json_bodies(_upload(_MODEL)), mutated_model)


@fuzz_settings()
@given(body=_uploads())
async def test_fuzz_model_upload(service: Any, entry: Callable[[str], EntryStats], body: bytes) -> None:
    stats = entry("inference POST /model (JSON + base64 ONNX)")
    c = await service("inference", Inference={"AutoFit": False})
    await _answer(
        stats, c, len(body), c.post("/api/v3/model", content=body, headers={"content-type": "application/json"})
    )


def _batches() -> st.SearchStrategy[bytes]:
    header, rows = _batch(DataClass.EVENT, "pump-1", range(1, 4))
    valid = encode_rows(header, rows)
    plain = zstandard.ZstdDecompressor().decompress(valid)
    recompressed = mutated(plain).map(lambda raw: zstandard.ZstdCompressor().compress(raw))
    bombs = st.integers(min_value=1, max_value=256).map(lambda mb: zstd_bomb(mb << 20))
    return st.one_of(st.just(valid), mutated(valid), recompressed, bombs, st.binary(max_size=256))


@fuzz_settings()
@given(body=_batches())
async def test_fuzz_receiver_batch(
    service: Any, entry: Callable[[str], EntryStats], tmp_path_factory: pytest.TempPathFactory, body: bytes
) -> None:
    stats = entry("receiver POST /sync/batch (zstd + msgpack)")
    db = str(tmp_path_factory.mktemp("receiver") / "r.db")
    c = await service("receiver", Receiver={"DbPath": db, "MaxDecodedBytes": 16 << 20})
    await _answer(stats, c, len(body), c.post("/api/v3/sync/batch", content=body, headers=BATCH_HEADERS))
