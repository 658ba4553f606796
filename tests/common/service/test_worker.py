"""Parse workers: results and EdgeX errors come back; a call past its time or memory budget is refused and the
worker replaced; a full queue answers 503."""

from __future__ import annotations

import asyncio

import pytest

from edgewatch.common.contracts.errors import ContractInvalidError, ServiceUnavailableError
from edgewatch.common.contracts.limits import SizeLimitError
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSection
from edgewatch.common.service.worker import ParseWorkers
from tests.support import workload


def _pool(**service: object) -> tuple[ParseWorkers, ServiceMetrics]:
    metrics = ServiceMetrics("test")
    section = ServiceSection.model_validate({"ParseTimeout": 1.0, **service})
    return ParseWorkers(lambda: section, metrics, max_pending=1), metrics


def _restarts(metrics: ServiceMetrics, reason: str) -> float:
    return metrics.registry.get_sample_value("edgewatch_parse_worker_restarts_total", {"reason": reason}) or 0.0


async def test_worker_returns_results_and_keeps_edgex_error_fields() -> None:
    pool, _ = _pool()
    try:
        assert await pool.run(workload.square, 7) == 49
        with pytest.raises(ContractInvalidError) as err:
            await pool.run(workload.fail_contract, "profile")
        assert err.value.field == "profile" and err.value.status == 400 and err.value.message == "profile: bad"
        assert await pool.run(workload.square, 3) == 9
    finally:
        await pool.close()


async def test_worker_past_its_time_budget_is_refused_with_413_and_replaced() -> None:
    pool, metrics = _pool(ParseTimeout=0.5)
    try:
        with pytest.raises(SizeLimitError) as err:
            await pool.run(workload.spin, 30.0, what="profile file")
        assert err.value.status == 413 and err.value.limit == "ParseTimeout"
        assert "profile file" in err.value.message and "Service.ParseTimeout" in err.value.message
        assert _restarts(metrics, "timeout") == 1
        assert await pool.run(workload.square, 5) == 25
    finally:
        await pool.close()


async def test_worker_needing_more_memory_than_its_cap_is_refused_with_413_and_replaced() -> None:
    pool, metrics = _pool(ParseMemoryLimit=64)
    try:
        with pytest.raises(SizeLimitError) as err:
            await pool.run(workload.allocate, 256)
        assert err.value.limit == "ParseMemoryLimit" and err.value.status == 413
        assert _restarts(metrics, "memory") == 1
        assert await pool.run(workload.allocate, 8) == 8 * 1024 * 1024
    finally:
        await pool.close()


async def test_worker_queue_beyond_max_pending_answers_503() -> None:
    pool, _ = _pool(ParseTimeout=5.0)
    try:
        busy = asyncio.create_task(pool.run(workload.spin, 1.0))
        await asyncio.sleep(0)
        queued = asyncio.create_task(pool.run(workload.square, 2))
        await asyncio.sleep(0)
        with pytest.raises(ServiceUnavailableError):
            await pool.run(workload.square, 3)
        assert await busy == "done" and await queued == 4
    finally:
        await pool.close()
