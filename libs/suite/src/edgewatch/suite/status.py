"""``edgewatch status``: health, message rates, hop latencies and backlog of a running local suite.

Rates and hop p99s are differences between two scrapes of every service's ``/metrics`` over a window long enough
for services that publish every few seconds (``WINDOW_S``; a one-second sample showed them at 0). ``edgewatch up``
records a scrape every ``SCRAPE_EVERY_S`` seconds in ``<data>/run/scrapes.json`` (:class:`ScrapeLog`), so
``status`` compares against one about a window old at once; without one (a suite started otherwise) it scrapes,
waits ``MIN_WINDOW_S`` and scrapes again.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from edgewatch.suite.layout import Ports
from edgewatch.suite.promtext import HopHistogram, counter_sum, hop_histograms, last_handled

__all__ = ["MIN_WINDOW_S", "SCRAPE_EVERY_S", "WINDOW_S", "ScrapeLog", "collect_status", "format_status", "scrape"]

WINDOW_S = 60.0  # rates and p99s over about the last minute
MIN_WINDOW_S = 10.0  # the shortest window status accepts (a publisher every few seconds shows)
SCRAPE_EVERY_S = 10.0  # how often `edgewatch up` records a scrape
_KEEP_S = 300.0
STALE_S = 60.0  # a subscription that has handled nothing for longer is listed by name

_BACKLOG = re.compile(r"^edgewatch_sync_backlog_messages\{class=\"(\w+)\"\} ([0-9.eE+]+)$", re.M)
_DROPS = re.compile(r"^edgewatch_sync_dropped_messages_total\{class=\"(\w+)\"\} ([0-9.eE+]+)$", re.M)


def _services(ports: Ports) -> dict[str, int]:
    return {
        "core-data": ports.core_data,
        "core-metadata": ports.core_metadata,
        "core-command": ports.core_command,
        "ingest": ports.ingest,
        "features": ports.features,
        "inference": ports.inference,
        "rules": ports.rules,
        "sync": ports.sync,
        "receiver": ports.receiver,
        "console": ports.console,
    }


def _get(url: str, timeout: float = 1.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()
    except OSError:
        return 0, b""


def scrape(ports: Ports) -> dict[str, Any]:
    """One scrape of every service: time, and per service the bus counters and the hop histograms."""
    out: dict[str, Any] = {"t": time.time(), "services": {}}
    for name, port in _services(ports).items():
        code, body = _get(f"http://127.0.0.1:{port}/metrics")
        if code != 200:
            continue
        text = body.decode(errors="replace")
        out["services"][name] = {
            "out": counter_sum(text, "edgewatch_bus_messages_out"),
            "in": counter_sum(text, "edgewatch_bus_messages_in"),
            "hops": {k: [h.buckets, h.total] for k, h in hop_histograms(text).items()},
            "backlog": {cls: float(n) for cls, n in _BACKLOG.findall(text)},
            "dropped": {cls: float(n) for cls, n in _DROPS.findall(text)},
            "last": last_handled(text),
        }
    return out


class ScrapeLog:
    """Scrapes kept for a few minutes in one JSON file (written atomically; `edgewatch up` appends)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        """The scrapes kept, oldest first ([] when none or unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return data if isinstance(data, list) else []

    def append(self, s: dict[str, Any]) -> None:
        """Add a scrape and forget those older than a few minutes."""
        kept = [x for x in self.load() if s["t"] - x.get("t", 0) <= _KEEP_S] + [s]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(kept), encoding="utf-8")
        tmp.replace(self.path)

    def baseline(self, now: float, window: float = WINDOW_S, min_window: float = MIN_WINDOW_S) -> dict[str, Any] | None:
        """The scrape closest to ``window`` seconds before ``now`` that is at least ``min_window`` old."""
        old = [x for x in self.load() if now - x.get("t", now) >= min_window]
        return min(old, key=lambda x: abs(now - x["t"] - window)) if old else None


def _hop(entry: list[Any]) -> HopHistogram:
    return HopHistogram([(float(le), float(n)) for le, n in entry[0]], float(entry[1]))


def collect_status(
    ports: Ports, log: ScrapeLog | None = None, window: float = WINDOW_S, min_window: float = MIN_WINDOW_S
) -> dict[str, Any]:
    """Ping, health, msgs/s and hop p50/p99 over the window, sync backlog and drops per service; JetStream totals."""
    now_scrape: dict[str, Any] | None = None
    base = log.baseline(time.time(), window, min_window) if log is not None else None
    if base is None:  # nothing recorded a window ago: measure one now
        base = scrape(ports)
        time.sleep(min_window)
    now_scrape = scrape(ports)
    if log is not None:
        log.append(now_scrape)
    span = max(now_scrape["t"] - base["t"], 1e-3)
    out: dict[str, Any] = {"window_s": round(span, 1), "services": {}}
    for name, port in _services(ports).items():
        ping, _ = _get(f"http://127.0.0.1:{port}/api/v3/ping")
        hcode, hbody = _get(f"http://127.0.0.1:{port}/api/v3/health")
        cur, old = now_scrape["services"].get(name), base["services"].get(name)
        try:
            health = json.loads(hbody) if hbody else {}
        except ValueError:
            health = {}
        entry: dict[str, Any] = {"port": port, "up": ping == 200, "healthy": hcode == 200, "health": health}
        entry.update(_rates(cur, old, span))
        entry.update(_idle(cur, now_scrape["t"]))
        out["services"][name] = entry
    code, body = _get(f"http://127.0.0.1:{ports.nats_monitor}/jsz?streams=true")
    if code == 200:
        js = json.loads(body)
        out["jetstream"] = {
            "streams": js.get("streams", 0),
            "messages": js.get("messages", 0),
            "bytes": js.get("bytes", 0),
            "detail": {
                s["name"]: s.get("state", {}).get("messages", 0)
                for a in js.get("account_details", [])
                for s in a.get("stream_detail", [])
            },
        }
    return out


def _idle(cur: dict[str, Any] | None, t: float) -> dict[str, Any]:
    """Seconds since the service's subscriptions last handled a message at scrape time ``t``: the newest of them
    (``idle_s``, None before its first message) and each one idle for over :data:`STALE_S` (``stale``)."""
    last: dict[str, float] = (cur or {}).get("last", {})
    ages = {subject: max(0.0, t - at) for subject, at in last.items()}
    return {
        "idle_s": round(min(ages.values()), 1) if ages else None,
        "stale": {subject: round(age) for subject, age in sorted(ages.items()) if age > STALE_S},
    }


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 60 else f"{seconds / 60:.0f}m" if seconds < 3600 else f"{seconds / 3600:.0f}h"


def _rates(cur: dict[str, Any] | None, old: dict[str, Any] | None, span: float) -> dict[str, Any]:
    """msgs/s and per-hop count, p50 and p99 (ms) between two scrapes of one service."""
    if cur is None:
        return {"msgs_out_per_s": 0.0, "msgs_in_total": 0.0, "backlog": {}, "dropped": {}, "hops": {}}
    restarted = old is None or cur["out"] < old["out"]
    rate = cur["out"] / span if restarted else (cur["out"] - old["out"]) / span  # type: ignore[index]
    hops: dict[str, Any] = {}
    for hop, entry in cur["hops"].items():
        before = old["hops"].get(hop) if old is not None else None
        h = _hop(entry).minus(_hop(before) if before is not None else None)
        p50, p99 = h.quantile(0.5), h.quantile(0.99)
        hops[hop] = {
            "count": h.count,
            "p50_ms": None if p50 is None else round(p50 * 1e3, 3),
            "p99_ms": None if p99 is None else round(p99 * 1e3, 3),
        }
    return {
        "msgs_out_per_s": round(rate, 2),
        "msgs_in_total": cur["in"],
        "backlog": cur["backlog"],
        "dropped": cur.get("dropped", {}),
        "hops": hops,
    }


def format_status(st: dict[str, Any], state_file: Path | None = None) -> str:
    """A human table (``last in``: since the service's subscriptions last handled a message; ``--json`` also names
    each subscription idle for over :data:`STALE_S`), then each hop's count, p50 and p99 over the window."""
    restarts: dict[str, Any] = {}
    if state_file and state_file.exists():
        restarts = json.loads(state_file.read_text())
    lines = [
        f"over the last {st.get('window_s', 0):g} s",
        f"{'service':<15}{'port':>7}  {'ping':<5}{'health':<8}{'msgs/s':>9}{'last in':>9}  backlog",
    ]
    for name, s in st["services"].items():
        backlog = ", ".join(f"{k}={v:g}" for k, v in s["backlog"].items()) or "-"
        drops = {k: v for k, v in s.get("dropped", {}).items() if v}
        if drops:
            backlog += " (dropped by policy: " + ", ".join(f"{k}={v:g}" for k, v in drops.items()) + ")"
        lines.append(
            f"{name:<15}{s['port']:>7}  {'ok' if s['up'] else 'DOWN':<5}{'ok' if s['healthy'] else 'bad':<8}"
            f"{s['msgs_out_per_s']:>9.2f}{_age(s.get('idle_s')):>9}  {backlog}"
        )
    # services served by one process (core-data, core-metadata and core-command under `edgewatch up`) expose the
    # same registry on each port: a hop with the same figures under several of them is one hop, listed once
    hops: dict[tuple[str, float, str, str], list[str]] = {}
    for name, s in st["services"].items():
        for hop, h in sorted(s.get("hops", {}).items()):
            p50 = "-" if h["p50_ms"] is None else f"{h['p50_ms']:.2f}"
            p99 = "-" if h["p99_ms"] is None else f"{h['p99_ms']:.2f}"
            hops.setdefault((hop, h["count"], p50, p99), []).append(name)
    if hops:
        width = max(15, *(len(",".join(names)) + 2 for names in hops.values()))
        lines.append(f"{'hop':<28}{'service':<{width}}{'count':>8}{'p50 ms':>10}{'p99 ms':>10}")
        for (hop, count, p50, p99), names in hops.items():
            lines.append(f"  {hop:<26}{','.join(names):<{width}}{count:>8g}{p50:>10}{p99:>10}")
    js = st.get("jetstream")
    if js:
        lines.append(f"JetStream: {js['streams']} streams, {js['messages']} messages, {js['bytes']} bytes")
        for k, v in js["detail"].items():
            lines.append(f"  {k}: {v} messages")
    if restarts:
        lines.append("restarts: " + ", ".join(f"{k}={v.get('restarts', 0)}" for k, v in restarts.items()))
    return "\n".join(lines)
