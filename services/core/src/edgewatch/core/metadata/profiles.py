"""Device profile domain: add / replace / delete with EdgeX's in-use and strict-change rules, system events."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from edgewatch.common.contracts.errors import (
    ConflictError,
    ContractInvalidError,
    LockedError,
    NotFoundError,
)
from edgewatch.common.contracts.profile import DeviceProfile, DeviceProfileBasicInfo
from edgewatch.core.config import CoreWritable
from edgewatch.core.metadata.stores import MetadataStores, new_id, now_ms
from edgewatch.core.metadata.sysevents import METADATA_OWNER, SystemEventPublisher
from edgewatch.core.metadata.uom import UnitsOfMeasure

__all__ = ["ProfileRegistry", "revalidate"]


def revalidate(p: DeviceProfile) -> DeviceProfile:
    """Re-run the profile checks after an edit (resource/command add or delete).

    Raises:
        ContractInvalidError: the edited profile breaks a rule; the message names it.
    """
    try:
        return DeviceProfile.model_validate(p.model_dump())
    except ValidationError as e:
        msgs = "; ".join(str(err["msg"]) for err in e.errors())
        raise ContractInvalidError(f"profile {p.name!r}: {msgs}", field="profile") from e


class ProfileRegistry:
    """The device profiles."""

    def __init__(
        self,
        stores: MetadataStores,
        events: SystemEventPublisher,
        writable: Callable[[], CoreWritable],
        uom: UnitsOfMeasure,
    ) -> None:
        self.stores = stores
        self.store = stores.profiles
        self.events = events
        self.writable = writable
        self.uom = uom

    def _check_units(self, p: DeviceProfile) -> None:
        if not self.writable().uo_m.validation:
            return
        for r in p.device_resources:
            if r.properties.units and not self.uom.known(r.properties.units):
                raise ContractInvalidError(
                    f"profile {p.name!r} resource {r.name!r}: properties.units {r.properties.units!r} "
                    "is not a known unit of measure",
                    field="units",
                )

    async def _publish(self, action: str, p: DeviceProfile) -> None:
        await self.events.publish("deviceprofile", action, METADATA_OWNER, p.name, p.to_dict())  # type: ignore[arg-type]

    async def add(self, p: DeviceProfile) -> str:
        """Add a new profile and return its id.

        Raises:
            ConflictError: the name (or the given id) exists.
            ContractInvalidError: units fail UoM validation.
        """
        self._check_units(p)
        if p.id and self.store.by_id(p.id) is not None:
            raise ConflictError(f"device profile id {p.id!r} already exists", field="id")
        ts = now_ms()
        p = p.model_copy(update={"id": p.id or new_id(), "created": ts, "modified": ts})
        await self.store.create(p)
        await self._publish("add", p)
        return p.id

    async def replace(self, p: DeviceProfile) -> DeviceProfile:
        """PUT: replace the profile with the same name (id and created are kept).

        Raises:
            LockedError: Writable.ProfileChange.StrictDeviceProfileChanges.
            NotFoundError: no profile of that name.
        """
        if self.writable().profile_change.strict_device_profile_changes:
            raise LockedError("profile updates are locked: Writable.ProfileChange.StrictDeviceProfileChanges is true")
        cur = self.store.get(p.name)
        self._check_units(p)
        p = p.model_copy(update={"id": cur.id, "created": cur.created, "modified": now_ms()})
        await self.store.put(p)
        await self._publish("update", p)
        return p

    async def save_edit(self, p: DeviceProfile) -> None:
        """Store an edited profile (resource/command/basic info change) and publish an update."""
        p = revalidate(p).model_copy(update={"modified": now_ms()})
        self._check_units(p)
        await self.store.put(p)
        await self._publish("update", p)

    def get(self, name: str) -> DeviceProfile:
        """The profile called ``name`` (404 otherwise)."""
        return self.store.get(name)

    def all(self) -> list[DeviceProfile]:
        """Every profile, ordered by ``created`` ascending."""
        return sorted(self.store.items.values(), key=lambda p: (p.created, p.name))

    def linked_device_count(self, name: str) -> int:
        """Devices using the profile."""
        return len(self.stores.devices_using_profile(name))

    def in_use_check(self, name: str) -> None:
        """Raise 409 when devices or provision watchers use the profile."""
        devs = self.stores.devices_using_profile(name)
        pws = self.stores.watchers_using_profile(name)
        if devs or pws:
            who = [d.name for d in devs[:5]] + [w.name for w in pws[:5]]
            raise ConflictError(f"device profile {name!r} is in use by {who}", kind=None, field="name")

    async def delete(self, name: str) -> None:
        """Delete a profile.

        Raises:
            LockedError: StrictDeviceProfileDeletes.
            NotFoundError: none.
            ConflictError: in use.
        """
        if self.writable().profile_change.strict_device_profile_deletes:
            raise LockedError("profile deletes are locked: Writable.ProfileChange.StrictDeviceProfileDeletes is true")
        self.store.get(name)
        self.in_use_check(name)
        p = await self.store.delete(name)
        await self._publish("delete", p)

    def resolve(self, id_: str | None, name: str | None) -> DeviceProfile:
        """By id, else by name (404 otherwise)."""
        if id_:
            p = self.store.by_id(id_)
            if p is None:
                raise NotFoundError(f"device profile id {id_!r} does not exist", field="id")
            return p
        return self.store.get(name or "")

    async def patch_basic_info(self, info: DeviceProfileBasicInfo) -> None:
        """PATCH basicinfo: manufacturer, description, model, labels (absent = unchanged)."""
        cur = self.resolve(info.id, info.name)
        changes = {
            k: v
            for k, v in (
                ("manufacturer", info.manufacturer),
                ("description", info.description),
                ("model", info.model),
                ("labels", info.labels),
            )
            if v is not None
        }
        await self.save_edit(cur.model_copy(update=changes))
