"""``edgewatch status``: health, message rates and backlog of a running local suite."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from edgewatch.suite.layout import Ports

__all__ = ["collect_status", "format_status"]

_OUT = re.compile(r"^edgewatch_bus_messages_out_total\{[^}]*\} ([0-9.eE+]+)$", re.M)
_IN = re.compile(r"^edgewatch_bus_messages_in_total\{[^}]*\} ([0-9.eE+]+)$", re.M)
_BACKLOG = re.compile(r"^edgewatch_sync_backlog_messages\{class=\"(\w+)\"\} ([0-9.eE+]+)$", re.M)


def _get(url: str, timeout: float = 1.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()
    except OSError:
        return 0, b""


def _counter_sum(text: str, rx: re.Pattern[str]) -> float:
    return sum(float(m) for m in rx.findall(text))


def collect_status(ports: Ports, sample_s: float = 1.0) -> dict[str, Any]:
    """Ping, health, msgs/s (from /metrics sampled twice) and sync backlog per service; JetStream totals."""
    services = {
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
    first: dict[str, float] = {}
    for name, port in services.items():
        code, body = _get(f"http://127.0.0.1:{port}/metrics")
        first[name] = _counter_sum(body.decode(errors="replace"), _OUT) if code == 200 else 0.0
    t0 = time.monotonic()
    time.sleep(sample_s)
    out: dict[str, Any] = {"services": {}}
    for name, port in services.items():
        ping, _ = _get(f"http://127.0.0.1:{port}/api/v3/ping")
        hcode, hbody = _get(f"http://127.0.0.1:{port}/api/v3/health")
        mcode, mbody = _get(f"http://127.0.0.1:{port}/metrics")
        text = mbody.decode(errors="replace") if mcode == 200 else ""
        rate = (_counter_sum(text, _OUT) - first[name]) / max(time.monotonic() - t0, 1e-3)
        backlog = {cls: float(n) for cls, n in _BACKLOG.findall(text)}
        try:
            health = json.loads(hbody) if hbody else {}
        except ValueError:
            health = {}
        out["services"][name] = {
            "port": port,
            "up": ping == 200,
            "healthy": hcode == 200,
            "health": health,
            "msgs_out_per_s": round(rate, 1),
            "msgs_in_total": _counter_sum(text, _IN),
            "backlog": backlog,
        }
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


def format_status(st: dict[str, Any], state_file: Path | None = None) -> str:
    """A human table."""
    restarts: dict[str, Any] = {}
    if state_file and state_file.exists():
        restarts = json.loads(state_file.read_text())
    lines = [f"{'service':<15}{'port':>7}  {'ping':<5}{'health':<8}{'msgs/s':>9}  backlog"]
    for name, s in st["services"].items():
        backlog = ", ".join(f"{k}={v:g}" for k, v in s["backlog"].items()) or "-"
        lines.append(
            f"{name:<15}{s['port']:>7}  {'ok' if s['up'] else 'DOWN':<5}{'ok' if s['healthy'] else 'bad':<8}"
            f"{s['msgs_out_per_s']:>9.1f}  {backlog}"
        )
    js = st.get("jetstream")
    if js:
        lines.append(f"JetStream: {js['streams']} streams, {js['messages']} messages, {js['bytes']} bytes")
        for k, v in js["detail"].items():
            lines.append(f"  {k}: {v} messages")
    if restarts:
        lines.append("restarts: " + ", ".join(f"{k}={v.get('restarts', 0)}" for k, v in restarts.items()))
    return "\n".join(lines)
