"""Loads ProfilesDir and DevicesDir at start; devices whose service is not registered yet wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.deviceservice import DeviceService
from edgewatch.common.contracts.errors import ConflictError, ContractInvalidError, EdgeXError
from edgewatch.common.contracts.limits import check_size
from edgewatch.common.contracts.yamlcompat import load_device_definitions, load_profile_yaml
from edgewatch.common.contracts.yamlsafe import DEFAULT_BUDGET, YamlBudget
from edgewatch.core.metadata.devices import DeviceRegistry
from edgewatch.core.metadata.profiles import ProfileRegistry

__all__ = ["DefinitionLoader"]

log = logging.getLogger(__name__)

_SUFFIXES = (".yaml", ".yml", ".json")


class DefinitionLoader:
    """Adds every profile file, then every device file; a 409 is only logged (as the device SDK does)."""

    def __init__(
        self,
        profiles: ProfileRegistry,
        devices: DeviceRegistry,
        profiles_dir: str,
        devices_dir: str,
        default_service: str,
        budget: Callable[[], YamlBudget] = lambda: DEFAULT_BUDGET,
    ) -> None:
        self.profiles = profiles
        self.devices = devices
        self.profiles_dir = profiles_dir
        self.devices_dir = devices_dir
        self.default_service = default_service
        self.budget = budget
        self.pending: dict[str, Device] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def _files(d: str) -> list[Path]:
        if not d:
            return []
        root = Path(d).expanduser()
        if not root.is_dir():
            log.warning("definition directory %s does not exist", root)
            return []
        return sorted(p for p in root.iterdir() if p.suffix.lower() in _SUFFIXES and p.is_file())

    def _read(self, path: Path) -> str:
        """A definition file's text, refused unread when larger than the YAML budget (413)."""
        check_size(path.stat().st_size, self.budget().max_bytes, path.name, "MaxRequestSize")
        return path.read_text(encoding="utf-8", errors="replace")

    async def load(self) -> None:
        """Load both directories (each file within the YAML budget); errors name the file, never stop the service."""
        budget = self.budget()
        for path in self._files(self.profiles_dir):
            try:
                await self.profiles.add(load_profile_yaml(self._read(path), budget))
                log.info("profile loaded from %s", path)
            except ConflictError:
                log.info("profile in %s already exists", path)
            except EdgeXError as e:
                log.error("profile file %s rejected: %s", path, e.message)
        for path in self._files(self.devices_dir):
            try:
                devs = load_device_definitions(self._read(path), service_name=self.default_service, budget=budget)
            except EdgeXError as e:
                log.error("device file %s rejected: %s", path, e.message)
                continue
            for d in devs:
                await self._add(d)
        self.devices.stores.services.on_change.append(self._service_changed)

    async def _add(self, d: Device) -> None:
        try:
            await self.devices.add(d, bypass_validation=True)
            self.pending.pop(d.name, None)
            log.info("device %s loaded", d.name)
        except ConflictError:
            self.pending.pop(d.name, None)
        except ContractInvalidError as e:
            if self.devices.stores.services.find(d.service_name) is None:
                self.pending[d.name] = d
                log.info("device %s waits for device service %s", d.name, d.service_name)
            else:
                log.error("device %s rejected: %s", d.name, e.message)
        except EdgeXError as e:
            log.error("device %s rejected: %s", d.name, e.message)

    def _service_changed(self, name: str, svc: DeviceService | None) -> None:
        if svc is None:
            return
        for d in [d for d in self.pending.values() if d.service_name == name]:
            t = asyncio.get_running_loop().create_task(self._add(d))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
