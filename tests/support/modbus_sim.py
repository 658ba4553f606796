"""Modbus test support: build small EdgeX profiles in code, run the profile-driven simulator, make pty pairs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.sim.modbus.server import ModbusSim, start_modbus_sim
from tests.support.shared import shared_path

__all__ = [
    "EDGEX_MODBUS_PROFILE",
    "EDGEX_MODBUS_PROFILE_PARTS",
    "ModbusSim",
    "make_device",
    "make_profile",
    "pty_bridge",
    "start_modbus_sim",
]


EDGEX_MODBUS_PROFILE_PARTS = ("edgex", "profiles", "modbus.test.device.profile.yml")
EDGEX_MODBUS_PROFILE = shared_path(*EDGEX_MODBUS_PROFILE_PARTS)


def make_profile(
    name: str,
    resources: Iterable[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]],
    commands: Iterable[Mapping[str, Any]] = (),
) -> DeviceProfile:
    """A profile from ``(name, valueType, attributes, extra properties)`` rows (readWrite defaults to RW)."""
    rows = []
    for rname, vt, attrs, props in resources:
        p = {"valueType": vt, "readWrite": "RW", **props}
        rows.append({"name": rname, "attributes": dict(attrs), "properties": p})
    return DeviceProfile.model_validate({"name": name, "deviceResources": rows, "deviceCommands": list(commands)})


def make_device(
    name: str,
    profile: str,
    port: int,
    *,
    unit: int = 1,
    auto_events: Iterable[Mapping[str, Any]] = (),
    timeout: str = "2s",
    service: str = "edgewatch-ingest",
    protocols: Mapping[str, Mapping[str, Any]] | None = None,
) -> Device:
    """A modbus-tcp device on 127.0.0.1:``port``."""
    return Device.model_validate(
        {
            "name": name,
            "profileName": profile,
            "serviceName": service,
            "adminState": "UNLOCKED",
            "operatingState": "UP",
            "protocols": dict(protocols)
            if protocols is not None
            else {"modbus-tcp": {"Address": "127.0.0.1", "Port": str(port), "UnitID": str(unit), "Timeout": timeout}},
            "autoEvents": list(auto_events),
        }
    )


def _raw_pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    # The slave fd stays open for the bridge's lifetime: with no slave open, the master reports EIO (always
    # "readable"), which would spin the relay. pyserial opens the slave a second time by name.
    return master, slave, os.ttyname(slave)


@contextlib.asynccontextmanager
async def pty_bridge() -> AsyncIterator[tuple[str, str]]:
    """Two pseudo-terminals joined back to back (a null-modem cable): yields ``(server_path, client_path)``.

    Each side is a pty slave opened by pyserial; an asyncio relay copies bytes between the two masters.
    """
    loop = asyncio.get_running_loop()
    m1, s1, p1 = _raw_pty()
    m2, s2, p2 = _raw_pty()

    def relay(src: int, dst: int) -> None:
        with contextlib.suppress(OSError):  # EIO while the far side has no reader yet
            data = os.read(src, 4096)
            if data:
                os.write(dst, data)

    loop.add_reader(m1, relay, m1, m2)
    loop.add_reader(m2, relay, m2, m1)
    try:
        yield p1, p2
    finally:
        loop.remove_reader(m1)
        loop.remove_reader(m2)
        for fd in (m1, m2, s1, s2):
            os.close(fd)
