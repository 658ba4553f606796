"""ConfigStore: the versioned feature configuration of each device, persisted as one JSON file, applied live."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from edgewatch.features.spec import FeatureConfig

__all__ = ["DEFAULT_VERSION", "ConfigStore", "StoredConfig"]

log = logging.getLogger(__name__)

DEFAULT_VERSION = "0"
"""Config version reported for a device that has no stored configuration (the built-in defaults)."""

Listener = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class StoredConfig:
    """A device's configuration and its version (a store-wide revision, so versions never repeat)."""

    device: str
    config: FeatureConfig
    version: str


class ConfigStore:
    """Per-device :class:`FeatureConfig` with store-wide revisions; listeners hear every change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.default = FeatureConfig()
        self._items: dict[str, StoredConfig] = {}
        self._revision = 0
        self._listeners: list[Listener] = []
        if path is not None and path.exists():
            self._load(path)

    def on_change(self, listener: Listener) -> None:
        """Call ``listener(device)`` after a device's configuration is replaced or deleted."""
        self._listeners.append(listener)

    def get(self, device: str) -> StoredConfig:
        """The device's configuration, or the defaults (version ``"0"``) when none is stored."""
        item = self._items.get(device)
        return item if item is not None else StoredConfig(device, self.default, DEFAULT_VERSION)

    def stored(self, device: str) -> StoredConfig | None:
        """The stored configuration only (None when the device runs on defaults)."""
        return self._items.get(device)

    def all(self) -> list[StoredConfig]:
        """Every stored configuration, by device name."""
        return [self._items[d] for d in sorted(self._items)]

    def put(self, device: str, config: FeatureConfig) -> StoredConfig:
        """Store (replace) a device's configuration under a new version and apply it."""
        self._revision += 1
        item = StoredConfig(device, config, str(self._revision))
        self._items[device] = item
        self._save()
        self._notify(device)
        return item

    def delete(self, device: str) -> bool:
        """Remove a device's configuration (it returns to the defaults); False if there was none."""
        if self._items.pop(device, None) is None:
            return False
        self._revision += 1
        self._save()
        self._notify(device)
        return True

    def _notify(self, device: str) -> None:
        for listener in self._listeners:
            listener(device)

    def _save(self) -> None:
        if self.path is None:
            return
        doc = {
            "revision": self._revision,
            "devices": {
                d: {"version": i.version, "config": i.config.model_dump(mode="json", by_alias=True)}
                for d, i in self._items.items()
            },
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def _load(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            self._revision = int(doc.get("revision", 0))
            for device, entry in (doc.get("devices") or {}).items():
                cfg = FeatureConfig.model_validate(entry["config"])
                self._items[device] = StoredConfig(device, cfg, str(entry["version"]))
        except (OSError, ValueError, KeyError, TypeError, ValidationError) as e:
            log.error("stored feature configuration ignored", extra={"path": str(path), "error": str(e)[:500]})
