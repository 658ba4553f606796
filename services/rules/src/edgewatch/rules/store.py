"""RuleStore: rules persisted as one JSON file each under the data directory, plus seed files from config.

Seed files (``Rules.Files``) are applied once: a seeded name is remembered, so a rule deleted or edited over
REST is not resurrected by the next restart. Files are written atomically (temp file, fsync, rename).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edgewatch.common.contracts.yamlsafe import DEFAULT_BUDGET, YamlBudget, YamlBudgetError, safe_load
from edgewatch.rules.rule import Rule
from edgewatch.rules.state import RunState

__all__ = ["RuleFileError", "RuleStore", "load_rule_file"]

log = logging.getLogger(__name__)


class RuleFileError(ValueError):
    """A rule file cannot be read or holds an invalid rule; the message names the file, rule and field."""


def load_rule_file(path: Path, budget: YamlBudget = DEFAULT_BUDGET) -> list[Rule]:
    """Rules from a YAML or JSON file holding one rule or a list of rules, within the YAML ``budget``.

    Raises:
        RuleFileError: unreadable file, larger or deeper than the budget, alias bombs, bad syntax, or an invalid
            rule.
    """
    try:
        size = path.stat().st_size
        if budget.max_bytes and size > budget.max_bytes:
            raise RuleFileError(f"{path}: {size} bytes exceeds the {budget.max_bytes}-byte limit (MaxRequestSize)")
        doc = safe_load(path.read_bytes(), budget)
    except YamlBudgetError as e:
        raise RuleFileError(f"{path}: {e.message}") from e
    except (OSError, yaml.YAMLError) as e:
        raise RuleFileError(f"{path}: {e}") from e
    items = doc if isinstance(doc, list) else [doc]
    rules = []
    for i, item in enumerate(items):
        try:
            rules.append(Rule.model_validate(item))
        except ValidationError as e:
            name = item.get("name", f"#{i}") if isinstance(item, dict) else f"#{i}"
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise RuleFileError(f"{path}: rule {name}: {loc}: {err['msg']}") from e
    return rules


class RuleStore:
    """``<root>/<name>.json`` = ``{"rule": {...}, "state": "running"|"stopped"}``; ``<root>/.seeded.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def save(self, rule: Rule, state: RunState) -> None:
        """Persist a rule and its run state (error is stored as running: it is not a configured state)."""
        stored = RunState.STOPPED if state is RunState.STOPPED else RunState.RUNNING
        _write(self.root / f"{rule.name}.json", {"rule": rule.to_doc(), "state": stored.value})

    def delete(self, name: str) -> None:
        """Forget a rule (no error when absent)."""
        (self.root / f"{name}.json").unlink(missing_ok=True)

    def load_all(self) -> list[tuple[Rule, RunState]]:
        """Every stored rule; an unreadable file is logged and skipped (it stays on disk for inspection)."""
        out = []
        for f in sorted(self.root.glob("*.json")):
            if f.name.startswith("."):
                continue
            try:
                doc = json.loads(f.read_bytes())
                out.append((Rule.model_validate(doc["rule"]), RunState(doc.get("state", "running"))))
            except (ValueError, KeyError, TypeError) as e:
                log.error("stored rule skipped", extra={"file": str(f), "error": str(e)[:500]})
        return out

    def seeded(self) -> set[str]:
        """Names of seed rules already applied."""
        try:
            return set(json.loads((self.root / ".seeded.json").read_bytes()))
        except (FileNotFoundError, ValueError):
            return set()

    def mark_seeded(self, names: set[str]) -> None:
        """Remember applied seed names."""
        _write(self.root / ".seeded.json", sorted(names))


def _write(path: Path, doc: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(json.dumps(doc, indent=2).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
