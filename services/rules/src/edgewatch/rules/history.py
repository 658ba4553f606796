"""History: a rule's recorded samples for a time range, read over REST from core-data or the receiver (dry runs).

Readings come from EdgeX events (``GET /api/v3/event/start/{start}/end/{end}``, which core-data and the
receiver both answer); scores and features only from the receiver (``GET /api/v3/<score|feature>/...``, newest
first, read back to ``start``). Pages are read until the range is exhausted, bounded by ``DryRun.MaxSamples``.
The result is in sample-time order; ties keep the order each source returned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from edgewatch.common.contracts.errors import ContractInvalidError, ServiceUnavailableError
from edgewatch.common.contracts.event import Event
from edgewatch.rules.condition import Source
from edgewatch.rules.config import DryRunSection
from edgewatch.rules.dryrun import DryRunRange
from edgewatch.rules.rule import Rule
from edgewatch.rules.samples import Sample, event_readings

__all__ = ["History", "rule_sources"]


def rule_sources(rule: Rule) -> list[Source]:
    """Every source a rule reads (its own, or each leaf's)."""
    if not rule.compound:
        return [rule.source] if rule.source is not None else []
    return [s for leaf in rule.condition.leaves() if (s := leaf.source or rule.source) is not None]


class History:
    """Reads recorded samples over HTTP."""

    def __init__(self, cfg: DryRunSection) -> None:
        self.cfg = cfg

    async def samples(self, rule: Rule, rng: DryRunRange) -> list[Sample]:
        """The samples ``rule`` would have seen between ``rng.start`` and ``rng.end``, oldest first.

        Raises:
            ContractInvalidError: core-data asked for scores or features; the range holds too many records.
            ServiceUnavailableError: the source did not answer, or answered with an error.
        """
        sources = rule_sources(rule)
        kinds = {s.kind for s in sources}
        if rng.source == "core-data" and kinds - {"reading"}:
            raise ContractInvalidError(
                "range.source: core-data holds EdgeX events only; a rule on scores or features reads the receiver "
                "(or give samples)",
                field="range",
            )
        url, token_file = (
            (self.cfg.core_data_url, self.cfg.core_data_token_file)
            if rng.source == "core-data"
            else (self.cfg.receiver_url, self.cfg.receiver_token_file)
        )
        headers = {"Authorization": f"Bearer {_token(token_file)}"} if token_file else {}
        out: list[Sample] = []
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=self.cfg.timeout) as client:
            if "reading" in kinds:
                out += await self._readings(client, rng, [s for s in sources if s.kind == "reading"])
            for kind in ("score", "feature"):
                if kind in kinds:
                    out += await self._items(client, kind, rng, [s for s in sources if s.kind == kind])
        out.sort(key=lambda s: s.t)
        return out

    async def _readings(self, client: httpx.AsyncClient, rng: DryRunRange, sources: list[Source]) -> list[Sample]:
        names = {s.name for s in sources}
        devices = None if any(s.device == "*" for s in sources) else {s.device for s in sources}
        docs: dict[str, dict[str, Any]] = {}
        path = f"/api/v3/event/start/{rng.start}/end/{rng.end}"
        async for page in self._pages(client, path, "events"):
            for doc in page:
                docs.setdefault(str(doc.get("id", len(docs))), doc)  # a page boundary may move while events arrive
        events: list[Event] = []
        for doc in docs.values():
            if devices is not None and doc.get("deviceName") not in devices:
                continue
            try:
                events.append(Event.model_validate(doc))
            except ValidationError as e:
                raise ServiceUnavailableError(f"{rng.source} returned an invalid event: {str(e)[:300]}") from e
        events.sort(key=lambda e: e.origin)
        out = []
        for ev in events:
            for resource, value, t in event_readings(ev, names):
                if rng.start <= t <= rng.end:
                    out.append(Sample(kind="reading", device=ev.device_name, name=resource, value=value, t=t))
        return out

    async def _items(
        self, client: httpx.AsyncClient, kind: str, rng: DryRunRange, sources: list[Source]
    ) -> list[Sample]:
        names = {s.name for s in sources}
        if any(s.device == "*" for s in sources):
            paths = [f"/api/v3/{kind}/all"]
        else:
            paths = [f"/api/v3/{kind}/device/name/{d}" for d in sorted({s.device for s in sources})]
        out: list[Sample] = []
        for path in paths:
            records: list[dict[str, Any]] = []
            async for page in self._pages(client, path, f"{kind}s"):
                records += page
                if page and int(page[-1].get("originNs", 0)) < rng.start:
                    break  # newest first: the rest is older than the range
            for rec in reversed(records):
                out += [s for s in _item_samples(kind, rec.get("data"), names) if rng.start <= s.t <= rng.end]
        return out

    async def _pages(self, client: httpx.AsyncClient, path: str, key: str) -> AsyncIterator[list[dict[str, Any]]]:
        offset, size = 0, self.cfg.page_size
        while True:
            try:
                resp = await client.get(path, params={"offset": offset, "limit": size})
            except httpx.HTTPError as e:
                raise ServiceUnavailableError(f"GET {client.base_url}{path}: {e!r}"[:500]) from e
            if resp.status_code == 416:  # offset past the end (the range shrank while reading)
                return
            if resp.status_code // 100 != 2:
                raise ServiceUnavailableError(
                    f"GET {client.base_url}{path} answered {resp.status_code}: {resp.text[:300]}"
                )
            body = resp.json()
            items = list(body.get(key) or [])
            total = int(body.get("totalCount", 0))
            if total > self.cfg.max_samples:
                raise ContractInvalidError(
                    f"range: {total} records at {path}, more than DryRun.MaxSamples {self.cfg.max_samples}; "
                    "narrow the range",
                    field="range",
                )
            yield items
            offset += len(items)
            if len(items) < size or offset >= total:
                return


def _item_samples(kind: str, data: Any, names: set[str]) -> Iterator[Sample]:
    if not isinstance(data, dict) or "device" not in data:
        return
    t = int(data.get("windowEnd") or data.get("origin") or 0)
    if kind == "score":
        yield Sample(kind="score", device=data["device"], value=float(data["score"]), t=t)
        return
    for name, value in zip(data.get("names") or [], data.get("values") or [], strict=False):
        if name in names:
            yield Sample(kind="feature", device=data["device"], name=name, value=float(value), t=t)


def _token(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ServiceUnavailableError(f"token file {path}: {e}") from e
