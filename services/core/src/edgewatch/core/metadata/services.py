"""Device service and provision watcher domain: add / patch / delete with in-use checks, system events."""

from __future__ import annotations

from edgewatch.common.contracts.deviceservice import DeviceService, UpdateDeviceService
from edgewatch.common.contracts.errors import ConflictError, ContractInvalidError, NotFoundError
from edgewatch.common.contracts.provisionwatcher import ProvisionWatcher, UpdateProvisionWatcher
from edgewatch.core.metadata.stores import MetadataStores, new_id, now_ms
from edgewatch.core.metadata.sysevents import METADATA_OWNER, SystemEventPublisher

__all__ = ["ServiceRegistry", "WatcherRegistry"]


class ServiceRegistry:
    """Device services."""

    def __init__(self, stores: MetadataStores, events: SystemEventPublisher) -> None:
        self.stores = stores
        self.store = stores.services
        self.events = events

    async def _publish(self, action: str, s: DeviceService) -> None:
        await self.events.publish("deviceservice", action, METADATA_OWNER, s.name, s.to_dict())  # type: ignore[arg-type]

    async def add(self, s: DeviceService) -> str:
        """Add; 409 on a duplicate name or id."""
        if s.id and self.store.by_id(s.id) is not None:
            raise ConflictError(f"device service id {s.id!r} already exists", field="id")
        ts = now_ms()
        s = s.model_copy(update={"id": s.id or new_id(), "created": ts, "modified": ts})
        await self.store.create(s)
        await self._publish("add", s)
        return s.id

    def resolve(self, id_: str | None, name: str | None) -> DeviceService:
        """By id, else by name (404 otherwise)."""
        if id_:
            s = self.store.by_id(id_)
            if s is None:
                raise NotFoundError(f"device service id {id_!r} does not exist", field="id")
            return s
        return self.store.get(name or "")

    async def patch(self, upd: UpdateDeviceService) -> None:
        """PATCH item (pointer semantics)."""
        cur = self.resolve(upd.id, upd.name)
        new = upd.apply(cur).model_copy(update={"modified": now_ms()})
        await self.store.put(new)
        await self._publish("update", new)

    async def delete(self, name: str) -> None:
        """Delete; 409 while devices or provision watchers reference it."""
        self.store.get(name)
        devs = [d.name for d in self.stores.devices.items.values() if d.service_name == name]
        pws = [w.name for w in self.stores.watchers.items.values() if w.service_name == name]
        if devs or pws:
            raise ConflictError(f"device service {name!r} is in use by {(devs + pws)[:5]}", field="name")
        s = await self.store.delete(name)
        await self._publish("delete", s)

    def all(self) -> list[DeviceService]:
        """Every device service, ordered by ``created``."""
        return sorted(self.store.items.values(), key=lambda s: (s.created, s.name))


class WatcherRegistry:
    """Provision watchers."""

    def __init__(self, stores: MetadataStores, events: SystemEventPublisher) -> None:
        self.stores = stores
        self.store = stores.watchers
        self.events = events

    async def _publish(self, action: str, w: ProvisionWatcher) -> None:
        profile = w.discovered_device.profile_name
        await self.events.publish("provisionwatcher", action, w.service_name, profile, w.to_dict())  # type: ignore[arg-type]

    def _check_refs(self, w: ProvisionWatcher) -> None:
        if self.stores.services.find(w.service_name) is None:
            raise ContractInvalidError(
                f"provision watcher {w.name!r}: device service {w.service_name!r} does not exist", field="serviceName"
            )
        prof = w.discovered_device.profile_name
        if prof and self.stores.profiles.find(prof) is None:
            raise ContractInvalidError(
                f"provision watcher {w.name!r}: device profile {prof!r} does not exist",
                field="discoveredDevice.profileName",
            )

    async def add(self, w: ProvisionWatcher) -> str:
        """Add; 400 when the service or profile is missing, 409 on a duplicate."""
        self._check_refs(w)
        if w.id and self.store.by_id(w.id) is not None:
            raise ConflictError(f"provision watcher id {w.id!r} already exists", field="id")
        ts = now_ms()
        w = w.model_copy(update={"id": w.id or new_id(), "created": ts, "modified": ts})
        await self.store.create(w)
        await self._publish("add", w)
        return w.id

    def resolve(self, id_: str | None, name: str | None) -> ProvisionWatcher:
        """By id, else by name (404 otherwise)."""
        if id_:
            w = self.store.by_id(id_)
            if w is None:
                raise NotFoundError(f"provision watcher id {id_!r} does not exist", field="id")
            return w
        return self.store.get(name or "")

    async def patch(self, upd: UpdateProvisionWatcher) -> None:
        """PATCH item (pointer semantics)."""
        cur = self.resolve(upd.id, upd.name)
        new = upd.apply(cur)
        self._check_refs(new)
        new = new.model_copy(update={"modified": now_ms()})
        await self.store.put(new)
        await self._publish("update", new)

    async def delete(self, name: str) -> None:
        """Delete."""
        w = await self.store.delete(name)
        await self._publish("delete", w)

    def all(self) -> list[ProvisionWatcher]:
        """Every watcher, ordered by ``created``."""
        return sorted(self.store.items.values(), key=lambda w: (w.created, w.name))
