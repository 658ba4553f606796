"""service.prometheusadapter: the fast counter increment counts like Counter.inc, and the import-time check fails
loudly when prometheus_client drops the private value object it uses."""

from __future__ import annotations

import time
from importlib.metadata import version

import pytest
from prometheus_client import CollectorRegistry, Counter

from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.prometheusadapter import PINNED_VERSION, check_hooks, fast_increment


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


class _CounterWithoutValue(Counter):
    def _metric_init(self) -> None:
        self._created = time.time()


def test_check_fails_loudly_naming_the_version_and_the_missing_attribute() -> None:
    with pytest.raises(ImportError) as e:
        check_hooks(_CounterWithoutValue)
    text = str(e.value)
    assert "_CounterWithoutValue instances have no callable _value.inc" in text
    assert f"prometheus-client {version('prometheus-client')} (edgewatch is pinned to {PINNED_VERSION})" in text
