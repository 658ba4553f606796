"""Backlog monitor: refreshes each class's backlog, oldest age and newest sequence from JetStream."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nats.aio.client import Client

from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.syncwire.batch import DataClass

__all__ = ["BacklogMonitor", "parse_rfc3339_ns"]

log = logging.getLogger(__name__)


def parse_rfc3339_ns(text: str) -> int:
    """Unix ns of a JetStream RFC 3339 timestamp (nanosecond fraction allowed); 0 for the zero time."""
    if not text or text.startswith("0001-01-01"):
        return 0
    main, _, frac = text.rstrip("Z").partition(".")
    tz = ""
    for sign in ("+", "-"):
        if sign in frac:
            frac, _, tz = frac.partition(sign)
            tz = sign + tz
    base = datetime.fromisoformat(main + (tz or "+00:00")).astimezone(UTC)
    ns = int((frac + "000000000")[:9]) if frac else 0
    return int(base.timestamp()) * 1_000_000_000 + ns


class BacklogMonitor:
    """Polls ``$JS.API.STREAM.INFO`` (raw, for ``first_ts``) for every class stream."""

    def __init__(self, nc: Callable[[], Client], streams: dict[DataClass, str], telemetry: SyncTelemetry) -> None:
        self._nc = nc
        self.streams = streams
        self.telemetry = telemetry

    async def refresh(self) -> None:
        """One refresh of every class (errors are logged; the previous values stay)."""
        now_ns = int(datetime.now(UTC).timestamp() * 1e9)
        for cls, name in self.streams.items():
            try:
                msg = await self._nc().request(f"$JS.API.STREAM.INFO.{name}", b"", timeout=2.0)
                info: dict[str, Any] = json.loads(msg.data)
            except Exception as e:
                log.debug("stream info failed", extra={"stream": name, "error": repr(e)})
                continue
            state = info.get("state") or {}
            messages = int(state.get("messages", 0))
            first_ns = parse_rfc3339_ns(str(state.get("first_ts", "")))
            age = max(0.0, (now_ns - first_ns) / 1e9) if messages and first_ns else 0.0
            self.telemetry.stream_state(cls, messages, int(state.get("bytes", 0)), int(state.get("last_seq", 0)), age)

    async def run(self, interval: float) -> None:
        """Refresh every ``interval`` seconds until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(interval)
