"""The pipeline-throughput side of ``bench/e2e.py`` (phase 3): the counts read from features' and inference's
/metrics, when to poll them, and the raw nats-py lane the pipeline is compared with."""

from __future__ import annotations

import asyncio
import time

from nats.aio.msg import Msg

from e2eload import Event
from edgewatch.common.contracts import topics
from edgewatch.suite.layout import SuiteConfig
from edgewatch.suite.promtext import counter_sum, last_handled

__all__ = ["pipeline_counts", "poll_delay", "raw_nats", "stamped_end"]


def pipeline_counts(texts: dict[str, str]) -> tuple[float, float, float, float]:
    """(events features took, vectors it published, vectors inference took, scores it published)."""
    feats, inf = texts.get("edgewatch-features", ""), texts.get("edgewatch-inference", "")
    return (
        counter_sum(feats, "edgewatch_bus_messages_in"),
        counter_sum(feats, "edgewatch_bus_messages_out"),
        counter_sum(inf, "edgewatch_bus_messages_in"),
        counter_sum(inf, "edgewatch_bus_messages_out"),
    )


def stamped_end(texts: dict[str, str], t0_wall: float) -> float | None:
    """Seconds from ``t0_wall`` (Unix time) until features had handled its last event and inference its last
    vector, by their own ``edgewatch_bus_last_handled_timestamp_seconds`` in the scrape that found them done; None
    when either is missing or older than ``t0_wall``.

    Those stamps lie between the true end and the scrape (a demo event handled after the burst moves them later,
    never earlier), so this end is never earlier than the true one and never later than the scrape's time, which
    is what the end was before: the poll's timing no longer adds to it.
    """
    feats = last_handled(texts.get("edgewatch-features", "")).get(topics.device_events_all())
    inf = last_handled(texts.get("edgewatch-inference", "")).get(topics.feature_vector_all())
    if feats is None or inf is None or min(feats, inf) < t0_wall:
        return None
    return max(feats, inf) - t0_wall


def poll_delay(taken: float, burst: int, elapsed: float) -> float:
    """Seconds until the next poll of features' /metrics: 60 % of the time features needs for the rest of the
    burst at its rate so far, 10-250 ms. Polls cost the process they measure (a scrape of /metrics is a few ms of
    its CPU), so the bench polls a few times per burst, closer together near the end, instead of every 50 ms."""
    if taken <= 0 or elapsed <= 0:
        return 0.25
    return min(0.25, max(0.01, 0.6 * (burst - taken) / (taken / elapsed)))


async def raw_nats(cfg: SuiteConfig, events: list[Event]) -> float:
    """Raw nats-py pub -> sub of ``events``' bytes (two connections of this process, the operator's user) on the
    suite's nats-server: msgs/s from the first publish to the last message received."""
    import nats

    url = f"nats://127.0.0.1:{cfg.ports.nats}"
    user, password = cfg.nats_credentials("admin")  # the operator's user: the bench's tap is no service
    pub = await nats.connect(url, user=user, password=password)
    sub = await nats.connect(url, user=user, password=password)
    got = 0
    last = 0.0
    done = asyncio.Event()

    async def cb(msg: Msg) -> None:
        nonlocal got, last
        got += 1
        last = time.perf_counter()
        if got == len(events):
            done.set()

    await sub.subscribe("bench.raw.>", cb=cb, pending_msgs_limit=len(events) + 1)
    await sub.flush()
    t0 = time.perf_counter()
    for i, (_, body, headers, _) in enumerate(events):
        await pub.publish(f"bench.raw.{i % 11}", body, headers=headers)
        if i % 500 == 499:
            await asyncio.sleep(0)
    await pub.flush()
    try:
        await asyncio.wait_for(done.wait(), 60)
    except TimeoutError:
        print(f"[throughput] raw: {got} of {len(events)} received")
    await pub.close()
    await sub.close()
    return got / (last - t0) if got else 0.0
