"""One EtherCAT master per network interface, reference-counted by the devices on it, and the driver options."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.ethercat.master import EtherCatMaster, MasterSettings
from edgewatch.protocols.ethercat.remote import ProcessMaster

Master = EtherCatMaster | ProcessMaster

__all__ = ["EtherCatOptions", "Master", "MasterPool"]


class MasterPool:
    """Masters by interface; the last device to release one stops it (in a worker thread). Each master runs in a
    worker process of its own (``MasterSettings.worker_process``, the default) or in threads of this process."""

    def __init__(self, settings: MasterSettings | None = None) -> None:
        self.settings = settings or MasterSettings()
        self.masters: dict[str, Master] = {}
        self.users: dict[str, int] = {}

    def acquire(self, iface: str, cycle_us: int, device: str) -> Master:
        """The running master of ``iface`` (started on first use).

        Raises:
            ProfileConfigError: the line already runs at another cycle time.
        """
        running = self.masters.get(iface)
        if running is None:
            settings = dataclasses.replace(self.settings, cycle_us=cycle_us)
            master: Master = (
                ProcessMaster(iface, settings) if settings.worker_process else EtherCatMaster(iface, settings)
            )
            master.start()
            self.masters[iface] = master
        else:
            master = running
        if master.settings.cycle_us != cycle_us:
            raise ProfileConfigError(
                f"CycleTime {cycle_us} us differs from {master.settings.cycle_us} us that {iface} already runs at",
                device=device,
            )
        self.users[iface] = self.users.get(iface, 0) + 1
        return master

    async def release(self, iface: str) -> None:
        """Drop one user of ``iface``; the last one stops its master."""
        self.users[iface] = self.users.get(iface, 1) - 1
        if self.users[iface] <= 0:
            self.users.pop(iface, None)
            master = self.masters.pop(iface, None)
            if master is not None:
                await asyncio.to_thread(master.stop)

    async def close(self) -> None:
        """Stop every master."""
        masters, self.masters = list(self.masters.values()), {}
        self.users.clear()
        for m in masters:
            await asyncio.to_thread(m.stop)


@dataclass(slots=True)
class EtherCatOptions:
    """What the EtherCAT driver factory gets from the service (IngestSettings ``EtherCAT``)."""

    pool: MasterPool = field(default_factory=MasterPool)
