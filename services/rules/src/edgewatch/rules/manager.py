"""RuleManager: the rules use cases (CRUD, start/stop, dry runs, seeding, the staleness watchdog)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.rules.actuator import Actuator
from edgewatch.rules.dryrun import DryRunRequest, dry_run
from edgewatch.rules.engine import RuleEngine, RuleRuntime
from edgewatch.rules.history import History
from edgewatch.rules.rule import Rule
from edgewatch.rules.state import RunState
from edgewatch.rules.store import RuleStore, load_rule_file

__all__ = ["RuleManager"]

log = logging.getLogger(__name__)

OnChange = Callable[[], Awaitable[None]]


class RuleManager:
    """Keeps the engine, the store and the bus subscriptions in step."""

    def __init__(
        self,
        engine: RuleEngine,
        store: RuleStore,
        actuator: Actuator,
        stale_interval: float,
        history: History | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.actuator = actuator
        self.history = history
        self.stale_interval = stale_interval
        self.on_change: OnChange | None = None
        self._watchdog: asyncio.Task[None] | None = None

    def load(self, seed_files: list[Path]) -> None:
        """Stored rules, then seed rules not applied before.

        Raises:
            RuleFileError: a seed file is unreadable or holds an invalid rule (names file, rule and field).
        """
        for rule, state in self.store.load_all():
            self.engine.add(rule, state)
        seeded = self.store.seeded()
        for path in seed_files:
            for rule in load_rule_file(path):
                if rule.name in seeded or rule.name in self.engine.rules:
                    continue
                self.engine.add(rule)
                self.store.save(rule, RunState.RUNNING)
                seeded.add(rule.name)
                log.info("seed rule loaded", extra={"rule": rule.name, "file": str(path)})
        self.store.mark_seeded(seeded)

    async def create(self, rule: Rule) -> RuleRuntime:
        """Add and persist a rule (409 when the name exists)."""
        rt = self.engine.add(rule)
        self.store.save(rule, rt.run_state)
        await self._changed()
        return rt

    async def replace(self, rule: Rule) -> RuleRuntime:
        """Replace a rule's definition (404 when absent)."""
        rt = self.engine.replace(rule)
        self.store.save(rule, rt.run_state)
        await self._changed()
        return rt

    async def delete(self, name: str) -> None:
        """Delete a rule (404 when absent)."""
        self.engine.remove(name)
        self.store.delete(name)
        await self._changed()

    def set_run_state(self, name: str, state: RunState) -> RuleRuntime:
        """Start or stop a rule; persisted."""
        rt = self.engine.set_run_state(name, state)
        self.store.save(rt.rule, rt.run_state)
        return rt

    async def dry_run(self, req: DryRunRequest) -> dict[str, Any]:
        """Alerts and actions a rule would have produced over recorded samples; nothing acts, live state untouched.

        Raises:
            NotFoundError: no stored rule of that name.
            ContractInvalidError, ServiceUnavailableError: the range cannot be read (see ``History.samples``).
        """
        rule = req.rule if req.rule is not None else self.engine.get(req.name).rule
        if req.samples is not None:
            samples = req.samples
        else:
            if req.range is None or self.history is None:
                raise ContractInvalidError("range: this service reads no recorded samples", field="range")
            samples = await self.history.samples(rule, req.range)
        return await asyncio.to_thread(dry_run, rule, samples)  # a long run must not stall live evaluation

    async def _changed(self) -> None:
        if self.on_change is not None:
            await self.on_change()

    # --- fail-safe ---------------------------------------------------------------------------------------------

    async def start_watchdog(self) -> None:
        """Start the periodic staleness check."""
        self._watchdog = asyncio.create_task(self._watch())

    async def stop_watchdog(self) -> None:
        """Stop the staleness check and let queued decisions finish."""
        await cancel_and_wait([self._watchdog])
        await self.actuator.stop()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.stale_interval)
            try:
                for d in self.engine.check_stale():
                    self.actuator.submit(d)
            except Exception:
                log.exception("staleness check failed")
