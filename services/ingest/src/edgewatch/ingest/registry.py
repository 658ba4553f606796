"""DeviceRegistry: the devices and profiles this service drives, each device's runtime, poll task and subscription.

Adds, updates and deletes (from local files, core-metadata, or its system events) are applied live: an updated
device or profile restarts the affected poll loops and subscriptions with freshly parsed attributes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from edgewatch.common.contracts import topics
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.errors import LockedError, NotFoundError
from edgewatch.common.contracts.event import Event
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.ingest.drivers import driver_for, load_factory
from edgewatch.ingest.drivers.base import PollingDriver, SubscribingDriver
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.ingest.scheduler import DevicePoller, PollerSettings
from edgewatch.ingest.subscriber import DeviceSubscriber
from edgewatch.protocols.errors import ProfileConfigError, ProtocolError

__all__ = ["DeviceRegistry", "StateSink"]

log = logging.getLogger(__name__)

StateSink = Callable[[str, str], Awaitable[None]]


class DeviceRegistry:
    """Devices, profiles, runtimes and pollers of one device service."""

    def __init__(
        self,
        service: str,
        driver_options: Mapping[str, object] | object,
        publish: Callable[[Event], Awaitable[None]],
        *,
        poller: PollerSettings | None = None,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.service = service
        self.driver_options = driver_options
        self.publish = publish
        self.poller_settings = poller or PollerSettings()
        self.metrics = metrics
        self.state_sinks: list[StateSink] = []
        self.profiles: dict[str, DeviceProfile] = {}
        self.devices: dict[str, Device] = {}
        self.runtimes: dict[str, DeviceRuntime] = {}
        self.pollers: dict[str, DevicePoller] = {}
        self.subscribers: dict[str, DeviceSubscriber] = {}
        self.errors: dict[str, str] = {}
        self._lock = asyncio.Lock()

    # --- lookups ------------------------------------------------------------------------------------------

    def runtime(self, name: str, *, for_command: bool = True) -> DeviceRuntime:
        """The runtime of a device that may take commands.

        Raises:
            NotFoundError (404): unknown device, or its profile/driver failed to load.
            LockedError (423): the device is LOCKED or DOWN.
        """
        dev = self.devices.get(name)
        if dev is None:
            raise NotFoundError(f"device {name!r} not found", field="name")
        rt = self.runtimes.get(name)
        if rt is None:
            raise NotFoundError(f"device {name!r} is not usable: {self.errors.get(name, 'not loaded')}", field="name")
        if for_command and dev.admin_state == "LOCKED":
            raise LockedError(f"device {name!r} is LOCKED", field="name")
        poller = self.pollers.get(name)
        if for_command and (dev.operating_state == "DOWN" or (poller is not None and poller.state == "DOWN")):
            why = getattr(rt.driver, "last_error", "")
            raise LockedError(f"device {name!r} is DOWN" + (f": {why}" if why else ""), field="name")
        return rt

    def options_for(self, protocol: str) -> object:
        """The options of one protocol's driver (one object for every protocol when not given per protocol)."""
        if isinstance(self.driver_options, Mapping):
            return self.driver_options.get(protocol)
        return self.driver_options

    def validate(self, device: Device) -> None:
        """Check that a device could run here (driver, protocol properties, profile, AutoEvents).

        Raises:
            ProfileConfigError: the message names what is wrong.
        """
        proto = driver_for(device.protocols)
        if proto is None:
            raise ProfileConfigError(f"no supported protocol in {sorted(device.protocols)}", device=device.name)
        profile = self.profiles.get(device.profile_name)
        factory = load_factory(proto)
        driver = factory(device, profile or DeviceProfile(name="empty"), self.options_for(proto))
        if profile is not None and isinstance(driver, PollingDriver):
            DeviceRuntime(device, profile, driver)

    # --- changes ------------------------------------------------------------------------------------------

    async def put_profile(self, profile: DeviceProfile) -> None:
        """Add or replace a profile; devices using it restart with re-parsed attributes."""
        async with self._lock:
            self.profiles[profile.name] = profile
            users = [d for d in self.devices.values() if d.profile_name == profile.name]
        for d in users:
            await self.put_device(d)

    async def remove_profile(self, name: str) -> None:
        """Forget a profile (its devices stop)."""
        async with self._lock:
            self.profiles.pop(name, None)
            users = [d for d in self.devices.values() if d.profile_name == name]
        for d in users:
            await self._stop(d.name)
            self.errors[d.name] = f"profile {name!r} was deleted"

    async def put_device(self, device: Device) -> None:
        """Add or replace a device and (re)start its poll loop; a config error is recorded, not raised."""
        async with self._lock:
            current, running = self.devices.get(device.name), self.runtimes.get(device.name)
            if (
                current is not None
                and running is not None
                and running.profile == self.profiles.get(device.profile_name)
            ):
                # The echo of our own operatingState PATCH (or the same device again): nothing to restart.
                if device.model_copy(update={"operating_state": current.operating_state}) == current:
                    return
            await self._stop(device.name)
            self.devices[device.name] = device
            self.errors.pop(device.name, None)
            try:
                rt = self._build(device)
            except (ProtocolError, KeyError, ImportError) as e:
                msg = e.message if isinstance(e, ProtocolError) else f"{type(e).__name__}: {e}"
                self.errors[device.name] = msg
                log.error("device not started", extra={"device": device.name, "error": msg})
                return
            self.runtimes[device.name] = rt
            if device.admin_state == "UNLOCKED":
                poller = DevicePoller(rt, self.publish, self._state, self.poller_settings, self.metrics)
                self.pollers[device.name] = poller
                poller.start()
                if isinstance(rt.driver, SubscribingDriver) and rt.driver.monitored:
                    subscriber = DeviceSubscriber(rt, self.publish, self._state, self.metrics)
                    self.subscribers[device.name] = subscriber
                    await subscriber.start()
            if self.metrics is not None:
                self.metrics.device_up.labels(device.name).set(1 if device.operating_state != "DOWN" else 0)

    async def remove_device(self, name: str) -> None:
        """Stop and forget a device."""
        async with self._lock:
            await self._stop(name)
            self.devices.pop(name, None)
            self.errors.pop(name, None)

    def _build(self, device: Device) -> DeviceRuntime:
        profile = self.profiles.get(device.profile_name)
        if profile is None:
            raise ProfileConfigError(f"profile {device.profile_name!r} is not known", device=device.name)
        proto = driver_for(device.protocols)
        if proto is None:
            raise ProfileConfigError(f"no supported protocol in {sorted(device.protocols)}", device=device.name)
        driver = load_factory(proto)(device, profile, self.options_for(proto))
        if not isinstance(driver, PollingDriver):
            raise ProfileConfigError(f"driver for {proto} cannot poll", device=device.name)
        rt = DeviceRuntime(device, profile, driver)
        # names become subject tokens: refuse what NATS cannot carry, once, at load
        sources = [s for job in rt.jobs for s in (job.resources if job.per_resource else (job.source,))]
        if isinstance(driver, SubscribingDriver):
            sources += list(driver.monitored)  # pushed changes are published with the resource as source
        try:
            for source in sources:
                topics.device_event(self.service, profile.name, device.name, source)
        except ValueError as e:
            raise ProfileConfigError(f"cannot publish events: {e}", device=device.name) from None
        return rt

    async def _stop(self, name: str) -> None:
        poller = self.pollers.pop(name, None)
        if poller is not None:
            await poller.stop()
        subscriber = self.subscribers.pop(name, None)
        if subscriber is not None:
            await subscriber.stop()
        rt = self.runtimes.pop(name, None)
        if rt is not None:
            await rt.driver.close()

    async def _state(self, name: str, state: str) -> None:
        dev = self.devices.get(name)
        if dev is not None and dev.operating_state == state:
            return  # a device's poller and subscription may both report the same change
        if dev is not None:
            self.devices[name] = dev.model_copy(update={"operating_state": state})
            rt = self.runtimes.get(name)
            if rt is not None:
                rt.device = self.devices[name]
        if self.metrics is not None:
            self.metrics.device_up.labels(name).set(1 if state == "UP" else 0)
        for sink in self.state_sinks:
            await sink(name, state)

    async def close(self) -> None:
        """Stop every poll loop and release drivers."""
        for name in list(self.pollers) + list(self.runtimes):
            await self._stop(name)
