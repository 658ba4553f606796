"""Edits of one part of a profile: add / patch / delete a device resource or a device command."""

from __future__ import annotations

from edgewatch.common.contracts.errors import ConflictError, LockedError, NotFoundError
from edgewatch.common.contracts.profile import (
    DeviceCommand,
    DeviceProfileTagsRequest,
    DeviceResource,
    UpdateDeviceCommand,
    UpdateDeviceResource,
)
from edgewatch.core.metadata.profiles import ProfileRegistry

__all__ = ["ProfileParts"]


class ProfileParts:
    """Resource and command edits on top of the profile registry (each edit re-validates the profile)."""

    def __init__(self, profiles: ProfileRegistry) -> None:
        self.profiles = profiles

    def _strict(self, what: str) -> None:
        if self.profiles.writable().profile_change.strict_device_profile_changes:
            raise LockedError(f"{what} is locked: Writable.ProfileChange.StrictDeviceProfileChanges is true")

    async def add_resource(self, profile_name: str, res: DeviceResource) -> None:
        """Add a resource (409 if the name exists in the profile)."""
        p = self.profiles.get(profile_name)
        if p.resource(res.name) is not None:
            raise ConflictError(f"profile {profile_name!r}: deviceResource {res.name!r} already exists", field="name")
        await self.profiles.save_edit(p.model_copy(update={"device_resources": [*p.device_resources, res]}))

    async def patch_resource(self, profile_name: str, upd: UpdateDeviceResource) -> None:
        """Change ``description`` / ``isHidden`` of a resource."""
        p = self.profiles.get(profile_name)
        cur = p.resource(upd.name)
        if cur is None:
            raise NotFoundError(f"profile {profile_name!r}: deviceResource {upd.name!r} does not exist", field="name")
        changes: dict[str, object] = {}
        if upd.description is not None:
            changes["description"] = upd.description
        if upd.is_hidden is not None:
            changes["is_hidden"] = upd.is_hidden
        new = cur.model_copy(update=changes)
        resources = [new if r.name == upd.name else r for r in p.device_resources]
        await self.profiles.save_edit(p.model_copy(update={"device_resources": resources}))

    async def delete_resource(self, profile_name: str, name: str) -> None:
        """Delete a resource: 423 when strict, 409 when a device uses the profile or a command uses it."""
        self._strict("deleting a deviceResource")
        p = self.profiles.get(profile_name)
        if p.resource(name) is None:
            raise NotFoundError(f"profile {profile_name!r}: deviceResource {name!r} does not exist", field="name")
        devs = self.profiles.stores.devices_using_profile(profile_name)
        if devs:
            raise ConflictError(
                f"profile {profile_name!r} is in use by devices {[d.name for d in devs[:5]]}; "
                f"deviceResource {name!r} cannot be deleted",
                field="resourceName",
            )
        users = [c.name for c in p.device_commands if any(op.device_resource == name for op in c.resource_operations)]
        if users:
            raise ConflictError(
                f"profile {profile_name!r}: deviceResource {name!r} is used by deviceCommands {users}",
                field="resourceName",
            )
        resources = [r for r in p.device_resources if r.name != name]
        await self.profiles.save_edit(p.model_copy(update={"device_resources": resources}))

    async def add_command(self, profile_name: str, cmd: DeviceCommand) -> None:
        """Add a device command (409 if the name exists)."""
        p = self.profiles.get(profile_name)
        if p.command(cmd.name) is not None:
            raise ConflictError(f"profile {profile_name!r}: deviceCommand {cmd.name!r} already exists", field="name")
        await self.profiles.save_edit(p.model_copy(update={"device_commands": [*p.device_commands, cmd]}))

    async def patch_command(self, profile_name: str, upd: UpdateDeviceCommand) -> None:
        """Change ``isHidden`` of a device command."""
        p = self.profiles.get(profile_name)
        cur = p.command(upd.name)
        if cur is None:
            raise NotFoundError(f"profile {profile_name!r}: deviceCommand {upd.name!r} does not exist", field="name")
        new = cur if upd.is_hidden is None else cur.model_copy(update={"is_hidden": upd.is_hidden})
        commands = [new if c.name == upd.name else c for c in p.device_commands]
        await self.profiles.save_edit(p.model_copy(update={"device_commands": commands}))

    async def delete_command(self, profile_name: str, name: str) -> None:
        """Delete a device command: 423 when strict, 409 when a device uses the profile."""
        self._strict("deleting a deviceCommand")
        p = self.profiles.get(profile_name)
        if p.command(name) is None:
            raise NotFoundError(f"profile {profile_name!r}: deviceCommand {name!r} does not exist", field="name")
        devs = self.profiles.stores.devices_using_profile(profile_name)
        if devs:
            raise ConflictError(
                f"profile {profile_name!r} is in use by devices {[d.name for d in devs[:5]]}; "
                f"deviceCommand {name!r} cannot be deleted",
                field="commandName",
            )
        commands = [c for c in p.device_commands if c.name != name]
        await self.profiles.save_edit(p.model_copy(update={"device_commands": commands}))

    async def patch_tags(self, profile_name: str, req: DeviceProfileTagsRequest) -> None:
        """Merge tags into resources and commands (404 naming the first unknown one)."""
        p = self.profiles.get(profile_name)
        resources = {r.name: r for r in p.device_resources}
        commands = {c.name: c for c in p.device_commands}
        for t in req.device_resources:
            if t.name not in resources:
                raise NotFoundError(f"profile {profile_name!r}: deviceResource {t.name!r} does not exist", field="name")
            r = resources[t.name]
            resources[t.name] = r.model_copy(update={"tags": {**(r.tags or {}), **t.tags}})
        for t in req.device_commands:
            if t.name not in commands:
                raise NotFoundError(f"profile {profile_name!r}: deviceCommand {t.name!r} does not exist", field="name")
            c = commands[t.name]
            commands[t.name] = c.model_copy(update={"tags": {**(c.tags or {}), **t.tags}})
        update = {"device_resources": list(resources.values()), "device_commands": list(commands.values())}
        await self.profiles.save_edit(p.model_copy(update=update))
