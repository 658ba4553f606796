"""service.prometheusadapter: the fast counter increment counts like Counter.inc, the fast histogram observer fills
the same buckets as Histogram.observe, and the import-time check fails loudly when prometheus_client drops the
private objects they use."""

from __future__ import annotations

import time
from importlib.metadata import version

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from edgewatch.common.service.metrics import HOP_BUCKETS, HOPS, ServiceMetrics
from edgewatch.common.service.prometheusadapter import PINNED_VERSION, check_hooks, fast_increment, fast_observe


def test_the_installed_prometheus_client_is_the_pinned_one_and_has_the_hook() -> None:
    assert version("prometheus-client") == PINNED_VERSION
    check_hooks()  # also ran at import


def test_fast_increment_adds_to_the_same_sample_as_inc() -> None:
    registry = CollectorRegistry()
    c = Counter("t_total", "test", ["k"], registry=registry)
    inc = fast_increment(c.labels("a"))
    inc(1)
    inc(2.5)
    c.labels("a").inc()
    assert registry.get_sample_value("t_total", {"k": "a"}) == 4.5


def test_service_metrics_bus_counters_reach_the_registry() -> None:
    m = ServiceMetrics("t")
    m.in_counter("x.>")(2)
    m.out_counter("features")(1)
    m.count_dead_letter("decode")
    m.set_connected(True)
    m.count_reconnect()
    get = m.registry.get_sample_value
    assert get("edgewatch_bus_messages_in_total", {"subject": "x.>"}) == 2
    assert get("edgewatch_bus_messages_out_total", {"kind": "features"}) == 1
    assert get("edgewatch_bus_dead_letters_total", {"reason": "decode"}) == 1
    assert get("edgewatch_bus_connected") == 1 and get("edgewatch_bus_reconnects_total") == 1


def test_fast_observe_fills_the_same_buckets_and_sum_as_observe() -> None:
    registry = CollectorRegistry()
    fast = Histogram("fast_seconds", "test", buckets=(0.001, 0.01, 0.1), registry=registry)
    slow = Histogram("slow_seconds", "test", buckets=(0.001, 0.01, 0.1), registry=registry)
    observe = fast_observe(fast)
    for v in (0.0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.5, 7.0):  # on, below and above every bound
        observe(v)
        slow.observe(v)
    get = registry.get_sample_value
    for le in ("0.001", "0.01", "0.1", "+Inf"):
        assert get("fast_seconds_bucket", {"le": le}) == get("slow_seconds_bucket", {"le": le}), le
    assert get("fast_seconds_bucket", {"le": "0.001"}) == 3  # 0.001 itself is in the 0.001 bucket (le)
    assert get("fast_seconds_count") == 9 and get("fast_seconds_sum") == get("slow_seconds_sum")


def test_service_metrics_hop_observes_one_label_of_the_hop_histogram() -> None:
    m = ServiceMetrics("t")
    observe = m.hop("rules_sample_decision")
    observe(0.0004)
    observe(0.2)
    get = m.registry.get_sample_value
    labels = {"hop": "rules_sample_decision"}
    assert get("edgewatch_hop_seconds_count", labels) == 2
    assert get("edgewatch_hop_seconds_bucket", {**labels, "le": "0.0005"}) == 1
    assert get("edgewatch_hop_seconds_bucket", {**labels, "le": str(HOP_BUCKETS[-1])}) == 2
    assert b'edgewatch_hop_seconds_bucket{hop="rules_sample_decision",le="0.25"} 2.0' in m.render()
    assert set(HOPS) >= {"ingest_read_publish", "command_forward_answer", "sync_store_ack"}
    with pytest.raises(KeyError, match="unknown hop 'nope'"):
        m.hop("nope")


class _CounterWithoutValue(Counter):
    def _metric_init(self) -> None:
        self._created = time.time()


def test_check_fails_loudly_naming_the_version_and_the_missing_attribute() -> None:
    with pytest.raises(ImportError) as e:
        check_hooks(_CounterWithoutValue)
    text = str(e.value)
    assert "_CounterWithoutValue instances have no callable _value.inc" in text
    assert f"prometheus-client {version('prometheus-client')} (edgewatch is pinned to {PINNED_VERSION})" in text


class _HistogramWithoutBuckets(Histogram):
    def _metric_init(self) -> None:
        self._created = time.time()


def test_check_fails_loudly_when_histograms_lose_their_bounds() -> None:
    with pytest.raises(ImportError, match="_HistogramWithoutBuckets instances have no _buckets"):
        check_hooks(histogram_cls=_HistogramWithoutBuckets)
