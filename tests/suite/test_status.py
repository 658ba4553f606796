"""`edgewatch status` arithmetic: hop histograms read back from a service's /metrics text, quantiles interpolated
inside buckets, differences between two scrapes (a service restart included), and the scrape log's window."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.suite.promtext import HopHistogram, counter_sum, hop_histograms, last_handled, quantile
from edgewatch.suite.status import ScrapeLog, _idle, _rates, format_status


def _metrics_text(observations: list[float], out: int = 0) -> str:
    m = ServiceMetrics("t")
    observe = m.hop("rules_sample_decision")
    for v in observations:
        observe(v)
    m.out_counter("alert")(out)
    return m.render().decode()


def test_hop_histograms_read_back_what_the_service_observed() -> None:
    text = _metrics_text([0.0004] * 98 + [0.04, 0.2], out=7)
    h = hop_histograms(text)["rules_sample_decision"]
    assert h.count == 100 and h.buckets[-1][0] == math.inf
    assert h.total == pytest.approx(98 * 0.0004 + 0.24)
    p50 = h.quantile(0.5)
    assert p50 is not None and 0.00025 < p50 <= 0.0005  # inside the bucket holding 98 of 100
    p99 = h.quantile(0.99)
    assert p99 is not None and 0.03 < p99 <= 0.05  # the 99th observation is the 0.04 s one
    assert counter_sum(text, "edgewatch_bus_messages_out") == 7


def test_quantile_interpolates_linearly_and_is_none_without_observations() -> None:
    assert quantile([(1.0, 0.0), (math.inf, 0.0)], 0.99) is None
    assert quantile([(1.0, 10.0), (2.0, 20.0), (math.inf, 20.0)], 0.75) == pytest.approx(1.5)
    assert quantile([(1.0, 0.0), (math.inf, 5.0)], 0.5) == 1.0  # in +Inf: the highest finite bound


def test_a_window_counts_only_observations_since_the_earlier_scrape() -> None:
    early = hop_histograms(_metrics_text([0.2] * 50))["rules_sample_decision"]
    late = hop_histograms(_metrics_text([0.2] * 50 + [0.0004] * 10))["rules_sample_decision"]
    window = late.minus(early)
    assert window.count == 10
    p99 = window.quantile(0.99)
    assert p99 is not None and p99 <= 0.0005
    restarted = hop_histograms(_metrics_text([0.0004] * 3))["rules_sample_decision"]
    assert restarted.minus(early).count == 3  # fewer than before: the process began again


def test_rates_and_hops_between_two_scrapes_show_a_slow_publisher(tmp_path: Path) -> None:
    def entry(out: float, h: HopHistogram) -> dict[str, object]:
        return {"out": out, "in": 0.0, "hops": {"rules_sample_decision": [h.buckets, h.total]}, "backlog": {}}

    before = hop_histograms(_metrics_text([0.001]))["rules_sample_decision"]
    after = hop_histograms(_metrics_text([0.001, 0.002, 0.002]))["rules_sample_decision"]
    r = _rates(entry(13.0, after), entry(10.0, before), 60.0)  # 3 messages in a minute: one per 20 s
    assert r["msgs_out_per_s"] == 0.05
    assert r["hops"]["rules_sample_decision"]["count"] == 2
    st = {"window_s": 60.0, "services": {"rules": {"port": 1, "up": True, "healthy": True, **r}}}
    text = format_status(st)
    assert "over the last 60 s" in text and "rules_sample_decision" in text and "0.05" in text


def test_scrape_log_baseline_is_about_a_window_old_and_never_too_recent(tmp_path: Path) -> None:
    log = ScrapeLog(tmp_path / "scrapes.json")
    for t in (1000.0, 1030.0, 1055.0, 1065.0):
        log.append({"t": t, "services": {}})
    assert log.baseline(1066.0, window=60, min_window=10)["t"] == 1000.0  # type: ignore[index]
    assert log.baseline(1100.0, window=60, min_window=10)["t"] == 1030.0  # type: ignore[index]
    assert log.baseline(1008.0, window=60, min_window=10) is None  # nothing 10 s old yet
    log.append({"t": 1400.0, "services": {}})  # scrapes older than a few minutes are forgotten
    assert [x["t"] for x in log.load()] == [1400.0]
    assert ScrapeLog(tmp_path / "none.json").baseline(1066.0) is None


def test_a_hop_that_several_ports_of_one_process_expose_is_listed_once() -> None:
    """core-data, core-metadata and core-command share core's process (and registry) under `edgewatch up`."""
    h = hop_histograms(_metrics_text([0.001, 0.002]))["rules_sample_decision"]
    r = _rates(
        {"out": 0.0, "in": 0.0, "hops": {"command_forward_answer": [h.buckets, h.total]}, "backlog": {}}, None, 10
    )
    other = _rates(
        {"out": 0.0, "in": 0.0, "hops": {"rules_sample_decision": [h.buckets, h.total]}, "backlog": {}}, None, 10
    )
    st = {
        "window_s": 10.0,
        "services": {
            **{n: {"port": i, "up": True, "healthy": True, **r} for i, n in enumerate(["core-data", "core-command"])},
            "rules": {"port": 9, "up": True, "healthy": True, **other},
        },
    }
    lines = format_status(st).splitlines()
    forward = [line for line in lines if "command_forward_answer" in line]
    assert len(forward) == 1 and "core-data,core-command" in forward[0]
    assert len([line for line in lines if "rules_sample_decision" in line]) == 1


def test_status_shows_how_long_ago_a_service_last_handled_a_message_and_names_its_quiet_subscriptions() -> None:
    m = ServiceMetrics("t")
    m.track_last_handled(lambda: [("edgex.events.device.>", 1000.0), ("edgewatch.features.vector.>", 1058.5)])
    text = m.render().decode()
    fed = _idle({"last": last_handled(text)}, 1060.0)
    assert fed == {"idle_s": 1.5, "stale": {}}
    starved = _idle({"last": last_handled(text)}, 1200.0)  # both quiet for over a minute
    assert starved == {"idle_s": 141.5, "stale": {"edgewatch.features.vector.>": 142, "edgex.events.device.>": 200}}
    assert _idle({"last": {}}, 1060.0) == {"idle_s": None, "stale": {}}  # nothing handled yet
    assert _idle(None, 1060.0) == {"idle_s": None, "stale": {}}  # the service did not answer the scrape
    base = _rates(None, None, 60.0)
    st = {
        "window_s": 60.0,
        "services": {
            "features": {"port": 1, "up": True, "healthy": True, **base, **fed},
            "rules": {"port": 2, "up": True, "healthy": True, **base, **starved},
            "sync": {"port": 3, "up": True, "healthy": True, **base, **_idle(None, 0.0)},
        },
    }
    rows = {line.split()[0]: line.split() for line in format_status(st).splitlines()[2:5]}
    assert rows["features"][5] == "1.5s" and rows["rules"][5] == "2m" and rows["sync"][5] == "-"
