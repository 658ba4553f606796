"""The receiver's batch intake under hostile bodies: zstd bombs (declared or not) are refused with 413 without the
memory they claim, oversized bodies before they are read, and the receiver keeps taking valid batches after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import pytest

from edgewatch.common.service.host import ServiceHost
from edgewatch.receiver.app import build_app
from edgewatch.receiver.config import ReceiverSettings
from edgewatch.syncwire.batch import BATCH_CONTENT_TYPE, IDEMPOTENCY_HEADER, DataClass, encode_rows
from tests.receiver.test_receiver import _batch
from tests.support.hostile import zstd_bomb
from tests.support.ports import free_port
from tests.sync.procs import ServiceProc

MiB = 1024 * 1024
HEADERS = {"Content-Type": BATCH_CONTENT_TYPE, "Content-Encoding": "zstd"}


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[ServiceHost]:
    settings = ReceiverSettings.model_validate(
        {"Receiver": {"DbPath": str(tmp_path / "r.db"), "MaxBatchBytes": 1 * MiB, "MaxDecodedBytes": 8 * MiB}}
    )
    h = build_app(settings)
    async with h:
        yield h


def _client(host: ServiceHost) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://receiver")


def _refusals(host: ServiceHost, limit: str) -> float:
    return host.metrics.registry.get_sample_value("edgewatch_limit_refusals_total", {"limit": limit}) or 0.0


async def _valid_batch_accepted(c: httpx.AsyncClient) -> bool:
    header, rows = _batch(DataClass.EVENT, "pump-1", range(1, 4))
    r = await c.post(
        "/api/v3/sync/batch",
        content=encode_rows(header, rows),
        headers={**HEADERS, IDEMPOTENCY_HEADER: header.batch_id},
    )
    return r.status_code == 200 and r.json()["accepted"] == 3


async def test_zstd_bomb_without_a_declared_size_is_413_and_the_receiver_keeps_taking_batches(
    host: ServiceHost,
) -> None:
    bomb = zstd_bomb(1 << 30)  # 1 GiB of zeros in about 32 KB; the frame does not declare its size
    async with _client(host) as c:
        r = await c.post("/api/v3/sync/batch", content=bomb, headers=HEADERS)
        assert r.status_code == 413, r.text
        assert "Receiver.MaxDecodedBytes" in r.json()["message"]
        assert await _valid_batch_accepted(c)
    assert _refusals(host, "MaxDecodedBytes") == 1


async def test_zstd_frame_declaring_a_huge_size_is_413_without_decoding(host: ServiceHost) -> None:
    import zstandard

    declared = zstandard.ZstdCompressor().compress(bytes(16 * MiB))
    async with _client(host) as c:
        r = await c.post("/api/v3/sync/batch", content=declared, headers=HEADERS)
    assert r.status_code == 413 and "Receiver.MaxDecodedBytes" in r.json()["message"]


async def test_body_over_max_batch_bytes_is_413_before_it_is_read(host: ServiceHost) -> None:
    async with _client(host) as c:
        r = await c.post("/api/v3/sync/batch", content=b"\x28\xb5\x2f\xfd" + bytes(2 * MiB), headers=HEADERS)
        assert r.status_code == 413 and "Receiver.MaxBatchBytes" in r.json()["message"]
        assert await _valid_batch_accepted(c)
    assert _refusals(host, "MaxBatchBytes") == 1


def _workers(main: psutil.Process) -> list[psutil.Process]:
    """The parse workers among a service's children (multiprocessing also starts a resource tracker)."""
    return [p for p in main.children() if "spawn_main" in " ".join(p.cmdline())]


def _peak_rss(proc: psutil.Process) -> int:
    """VmHWM (peak resident set) of a process, bytes."""
    with open(f"/proc/{proc.pid}/status", encoding="ascii") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


async def test_zstd_bomb_costs_at_most_max_decoded_bytes_of_memory_in_a_running_receiver(tmp_path: Path) -> None:
    """1 GiB bombs against ``python -m edgewatch.receiver`` (MaxDecodedBytes 64 MiB, the default): the
    service process's peak RSS does not grow by more than 16 MiB, its parse worker's stays under 64 MiB + 32 MiB
    over the worker's peak after a valid batch."""
    port = free_port()
    env = {
        "SERVICE_PORT": str(port),
        "RECEIVER_DBPATH": str(tmp_path / "r.db"),
        "EDGEWATCH_DATA_DIR": str(tmp_path / "data"),
        "WRITABLE_LOGLEVEL": "WARN",
    }
    receiver = ServiceProc("edgewatch.receiver", env, port, tmp_path)
    receiver.start()
    try:
        assert receiver.proc is not None
        main = psutil.Process(receiver.proc.pid)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            big = zstd_bomb(2 * MiB)  # a harmless batch-sized frame through the worker: warms it up
            assert (await c.post("/api/v3/sync/batch", content=big, headers=HEADERS)).status_code == 400
            (worker,) = _workers(main)
            main_before, worker_before = _peak_rss(main), _peak_rss(worker)
            bomb = zstd_bomb(1 << 30)
            for _ in range(3):
                r = await c.post("/api/v3/sync/batch", content=bomb, headers=HEADERS)
                assert r.status_code == 413 and "MaxDecodedBytes" in r.json()["message"]
            (worker_after,) = _workers(main)
            assert worker_after.pid == worker.pid  # refused, not killed
            main_growth = _peak_rss(main) - main_before
            worker_growth = _peak_rss(worker) - worker_before
        assert main_growth < 16 * MiB, main_growth
        assert worker_growth < 64 * MiB + 32 * MiB, worker_growth
    finally:
        receiver.stop()
