"""Ordered startup and shutdown."""

from __future__ import annotations

import pytest

from edgewatch.common.service.lifespan import Lifespan


async def test_lifespan_starts_in_order_and_stops_in_reverse() -> None:
    calls: list[str] = []
    ls = Lifespan()
    for n in ("a", "b", "c"):

        async def start(n: str = n) -> None:
            calls.append(f"start {n}")

        async def stop(n: str = n) -> None:
            calls.append(f"stop {n}")

        ls.add(n, start, stop)
    async with ls:
        assert ls.started == ["a", "b", "c"]
    assert calls == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]


async def test_lifespan_failed_step_stops_started_ones_and_raises() -> None:
    calls: list[str] = []
    ls = Lifespan()

    async def ok() -> None:
        calls.append("start ok")

    async def ok_stop() -> None:
        calls.append("stop ok")

    async def boom() -> None:
        raise RuntimeError("no")

    ls.add("ok", ok, ok_stop)
    ls.add("boom", boom)
    with pytest.raises(RuntimeError):
        await ls.start()
    assert calls == ["start ok", "stop ok"]
