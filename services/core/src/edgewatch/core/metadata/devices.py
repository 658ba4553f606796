"""Device domain: the per-item checks of POST /device in EdgeX's order, PATCH, delete, system events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from edgewatch.common.contracts.device import Device, UpdateDevice
from edgewatch.common.contracts.errors import ConflictError, ContractInvalidError, NotFoundError
from edgewatch.common.contracts.namepattern import compile_pattern
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.metadata.stores import MetadataStores, new_id, now_ms
from edgewatch.core.metadata.sysevents import SystemEventPublisher

__all__ = ["DeviceRegistry", "DeviceValidator", "unresolved_source"]

_INLINE_MATCHES = 20_000
"""Pattern-by-resource matches done on the loop (about a millisecond); more go to a parse worker."""

DeviceValidator = Callable[[Device], Awaitable[None]]


def unresolved_source(sources: list[str], names: frozenset[str], resources: list[str]) -> int:
    """Index of the first autoEvent source that is no resource or command name and, as an RE2 pattern, matches
    no resource name; -1 when all resolve."""
    for i, source in enumerate(sources):
        if source in names:
            continue
        rx = compile_pattern(source)
        if rx is None or not any(rx.fullmatch(n) is not None for n in resources):
            return i
    return -1


class DeviceRegistry:
    """The devices; ``validate`` asks the owning device service (raises 503 / 500)."""

    def __init__(
        self,
        stores: MetadataStores,
        events: SystemEventPublisher,
        validate: DeviceValidator,
        workers: ParseWorkers | None = None,
    ) -> None:
        self.workers = workers
        self.stores = stores
        self.store = stores.devices
        self.events = events
        self.validate = validate

    async def _publish(self, action: str, d: Device) -> None:
        await self.events.publish("device", action, d.service_name, d.profile_name, d.to_dict())  # type: ignore[arg-type]

    async def _check_refs(self, d: Device) -> None:
        """Checks 1-3: service exists, profile exists, every autoEvent source resolves (400 otherwise)."""
        if self.stores.services.find(d.service_name) is None:
            raise ContractInvalidError(
                f"device {d.name!r}: device service {d.service_name!r} does not exist", field="serviceName"
            )
        p = self.stores.profiles.find(d.profile_name) if d.profile_name else None
        if d.profile_name and p is None:
            raise ContractInvalidError(
                f"device {d.name!r}: device profile {d.profile_name!r} does not exist", field="profileName"
            )
        events = d.auto_events or []
        if not events:
            return
        if p is None:
            raise ContractInvalidError(
                f"device {d.name!r}: autoEvents[0].sourceName {events[0].source_name!r} needs a profile",
                field="autoEvents",
            )
        sources = [ae.source_name for ae in events]
        names = frozenset([*(r.name for r in p.device_resources), *(c.name for c in p.device_commands)])
        resources = [r.name for r in p.device_resources]
        patterns = sum(1 for s in sources if s not in names)
        if self.workers is not None and patterns * len(resources) > _INLINE_MATCHES:
            i = await self.workers.run(unresolved_source, sources, names, resources, what="autoEvents")
        else:
            i = unresolved_source(sources, names, resources)
        if i >= 0:
            raise ContractInvalidError(
                f"device {d.name!r}: autoEvents[{i}].sourceName {sources[i]!r} is not a resource, command or "
                f"resource pattern of profile {p.name!r}",
                field="autoEvents",
            )

    async def add(self, d: Device, *, force: bool = False, bypass_validation: bool = False) -> str:
        """POST /device item; returns the id. With ``force`` an existing device is updated instead of 409."""
        await self._check_refs(d)
        existing = self.store.find(d.name)
        if existing is not None and not force:
            raise ConflictError(f"device {d.name!r} already exists", field="name")
        if d.id and existing is None and self.store.by_id(d.id) is not None:
            raise ConflictError(f"device id {d.id!r} already exists", field="id")
        if not (bypass_validation or force):
            await self.validate(d)
        ts = now_ms()
        if existing is not None:
            d = d.model_copy(update={"id": existing.id, "created": existing.created, "modified": ts})
            await self.store.put(d)
            await self._publish("update", d)
        else:
            d = d.model_copy(update={"id": d.id or new_id(), "created": ts, "modified": ts})
            await self.store.create(d)
            await self._publish("add", d)
        return d.id

    def resolve(self, id_: str | None, name: str | None) -> Device:
        """By id, else by name (404 otherwise)."""
        if id_:
            d = self.store.by_id(id_)
            if d is None:
                raise NotFoundError(f"device id {id_!r} does not exist", field="id")
            return d
        return self.store.get(name or "")

    async def patch(self, upd: UpdateDevice, *, bypass_validation: bool = False) -> None:
        """PATCH /device item (pointer semantics)."""
        cur = self.resolve(upd.id, upd.name)
        new = upd.apply(cur)
        await self._check_refs(new)
        if new.name != cur.name and self.store.find(new.name) is not None:
            raise ConflictError(f"device {new.name!r} already exists", field="name")
        if not bypass_validation:
            await self.validate(new)
        new = new.model_copy(update={"modified": now_ms()})
        if new.name != cur.name:
            await self.store.delete(cur.name)
        await self.store.put(new)
        await self._publish("update", new)

    async def delete(self, name: str) -> None:
        """DELETE /device/name: 409 while the device has children."""
        self.store.get(name)
        children = [d.name for d in self.store.items.values() if d.parent == name]
        if children:
            raise ConflictError(f"device {name!r} has child devices {children[:5]}", field="name")
        d = await self.store.delete(name)
        await self._publish("delete", d)

    def all(self) -> list[Device]:
        """Every device, ordered by ``created``."""
        return sorted(self.store.items.values(), key=lambda d: (d.created, d.name))

    def descendants(self, name: str, max_levels: int) -> set[str]:
        """Names of devices below ``name`` (``max_levels`` 0 = unlimited)."""
        out: set[str] = set()
        frontier, level = {name}, 0
        while frontier and (max_levels <= 0 or level < max_levels):
            frontier = {d.name for d in self.store.items.values() if d.parent in frontier and d.name not in out}
            out |= frontier
            level += 1
        return out
