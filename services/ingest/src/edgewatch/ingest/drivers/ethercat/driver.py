"""EtherCatDriver: one slave of a shared cyclic master; PDO values from the latest good process image, SDOs
through the mailbox, the AL state as a resource.

- Reads never touch the wire for process data: they decode the slave's latest good input image (or the staged
  output image) and carry its time as the reading origin. While the slave is not in OP, or no frame with the right
  working counter came back within ``stale_cycles``, a read raises :class:`DeviceIOError` naming the AL state and
  AL status code, so the poller marks the device DOWN and publishes nothing; it comes back UP by itself.
- A vendor id / product code that differs from the device's ``VendorId`` / ``ProductCode`` keeps the device DOWN
  with an error naming both.
- Writes to outputs are staged and sent by the next cycle; SDO reads and writes run in a worker thread, one
  mailbox transfer at a time per line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.ingest.drivers.base import Sample
from edgewatch.ingest.drivers.ethercat.pool import EtherCatOptions, Master
from edgewatch.ingest.drivers.ethercat.properties import EtherCatLink, parse_link
from edgewatch.ingest.errors import DeviceIOError
from edgewatch.protocols.errors import ProfileConfigError, ValueRangeError
from edgewatch.protocols.ethercat.attributes import EtherCatAttributes, parse_attributes
from edgewatch.protocols.ethercat.codec import SCALAR_BITS, decode_bits, decode_bytes, encode_bits, encode_bytes
from edgewatch.protocols.ethercat.soemadapter import SoemError
from edgewatch.protocols.ethercat.state import state_name

__all__ = ["EtherCatDriver", "create_driver", "parse_profile_attributes"]


def parse_profile_attributes(profile: DeviceProfile, device: str = "") -> dict[str, EtherCatAttributes]:
    """Parse every resource's attributes.

    Raises:
        ProfileConfigError: the first invalid resource, named with the attribute at fault.
    """
    return {
        r.name: parse_attributes(
            r.attributes,
            r.properties.value_type,
            r.properties.read_write,
            device=device or profile.name,
            resource=r.name,
        )
        for r in profile.device_resources
    }


class EtherCatDriver:
    """Reads and writes one slave's resources through the line's :class:`EtherCatMaster`."""

    def __init__(
        self, device: str, link: EtherCatLink, attributes: Mapping[str, EtherCatAttributes], options: EtherCatOptions
    ) -> None:
        self.device = device
        self.link = link
        self.attributes = dict(attributes)
        self.options = options
        self._master: Master | None = None
        self._offsets: dict[str, int] = {}
        self._position: int | None = None
        self.last_error = ""

    @property
    def master(self) -> Master:
        """The line's master (acquired, and started, on first use)."""
        if self._master is None:
            self._master = self.options.pool.acquire(self.link.interface, self.link.cycle_us, self.device)
        return self._master

    async def connect(self) -> None:
        """Attach to the line's master (it configures the line in the background)."""
        _ = self.master

    async def close(self) -> None:
        """Release the master."""
        if self._master is not None:
            self._master = None
            await self.options.pool.release(self.link.interface)

    # --- resolution ------------------------------------------------------------------------------------------

    def _fail(self, message: str) -> DeviceIOError:
        self.last_error = message
        return DeviceIOError(message, device=self.device)

    def position(self) -> int:
        """The slave's position once the line is configured and the slave is the expected one.

        Raises:
            DeviceIOError: the line is not running, no such slave, or its identity differs.
        """
        m = self.master
        if not m.ready:
            raise self._fail(m.health(0))
        if self._position is None:
            link = self.link
            pos = link.position if link.position is not None else m.position_of_alias(link.alias or 0)
            if pos is None or pos not in m.slaves:
                raise self._fail(f"no slave at {link.slave} on {link.interface} ({len(m.slaves)} slaves found)")
            info = m.slaves[pos]
            wrong = []
            if link.vendor_id is not None and info.vendor_id != link.vendor_id:
                wrong.append(f"vendor id 0x{info.vendor_id:08X} (expected 0x{link.vendor_id:08X})")
            if link.product_code is not None and info.product_code != link.product_code:
                wrong.append(f"product code 0x{info.product_code:08X} (expected 0x{link.product_code:08X})")
            if wrong:
                raise self._fail(f"slave at {link.slave} ({info.name}) has " + " and ".join(wrong))
            self._position = pos
        return self._position

    def _attrs(self, name: str) -> EtherCatAttributes:
        a = self.attributes.get(name)
        if a is None:
            raise ProfileConfigError(f"{name}: not a resource of the device's profile", device=self.device)
        return a

    def _offset(self, name: str, a: EtherCatAttributes, pos: int) -> int:
        off = self._offsets.get(name)
        if off is not None:
            return off
        info = self.master.slaves[pos]
        layout = info.inputs if a.area == "input" else info.outputs
        bits = SCALAR_BITS[a.value_type]
        if a.index is not None:
            mapped = layout.find(a.index, a.subindex)
            if mapped is None:
                raise ProfileConfigError(
                    f"{a.area} PDO entry {a.address} is not mapped by {info.name} ({info.source}: "
                    f"{', '.join(layout.describe()) or 'nothing'})",
                    device=self.device,
                    resource=name,
                )
            if mapped.entry.bits != bits:
                raise ProfileConfigError(
                    f"PDO entry {a.address} is {mapped.entry.bits} bits, valueType {a.value_type} is {bits}",
                    device=self.device,
                    resource=name,
                )
            off = mapped.bit_offset
        else:
            off = a.bit_offset or 0
            if off + bits > layout.nbytes * 8:
                raise ProfileConfigError(
                    f"{a.address} + {bits} bits lies beyond the {layout.nbytes}-byte {a.area} image",
                    device=self.device,
                    resource=name,
                )
        self._offsets[name] = off
        return off

    # --- reads -----------------------------------------------------------------------------------------------

    async def read(self, resources: Sequence[str]) -> dict[str, Any]:
        """Values of the named resources (PDO values as Samples stamped with their cycle's time).

        Raises:
            DeviceIOError: the slave is not in OP, its data are stale, its identity is wrong, or an SDO failed.
            ProfileConfigError: a resource names an entry the slave does not map.
        """
        pos = self.position()
        m = self.master
        attrs = {n: self._attrs(n) for n in resources}
        out: dict[str, Any] = {}
        if any(a.area in ("input", "output") for a in attrs.values()):
            why = m.health(pos)
            if why:
                raise self._fail(why)
        image = m.image(pos)
        outputs = m.outputs(pos)
        for name, a in attrs.items():
            if a.area == "input":
                assert image is not None
                value = decode_bits(image.data, self._offset(name, a, pos), a.value_type)
                out[name] = Sample(value, origin=image.time_ns)
            elif a.area == "output":
                out[name] = decode_bits(outputs, self._offset(name, a, pos), a.value_type)
            elif a.area == "state":
                st = m.status[pos]
                out[name] = state_name(st.state) if a.value_type == "String" else st.state
            elif a.area == "alStatusCode":
                out[name] = m.status[pos].code
            else:
                out[name] = await self._sdo_read(name, a, pos)
        self.last_error = ""
        return out

    async def _sdo_read(self, name: str, a: EtherCatAttributes, pos: int) -> Any:
        m = self.master
        try:
            data = await asyncio.to_thread(m.sdo_read, pos, a.index or 0, a.subindex, a.size, a.complete_access)
        except SoemError as e:
            raise DeviceIOError(f"SDO read {a.address}: {e}", device=self.device, resource=name) from None
        try:
            return decode_bytes(data, a.value_type)
        except ValueError as e:
            raise DeviceIOError(f"SDO read {a.address}: {e}", device=self.device, resource=name) from None

    # --- writes ----------------------------------------------------------------------------------------------

    async def write(self, values: Mapping[str, Any]) -> None:
        """Stage output values (sent together by the next cycle) and download SDO values, in the given order.

        Raises:
            DeviceIOError: the slave is not usable or an SDO download was refused.
            ProfileConfigError: a read-only resource.
            ValueRangeError: a value does not fit its type.
        """
        pos = self.position()
        m = self.master
        staged: list[tuple[int, str, Any]] = []
        for name, value in values.items():
            a = self._attrs(name)
            if a.area == "output":
                staged.append((self._offset(name, a, pos), a.value_type, value))
            elif a.area != "sdo":
                raise ProfileConfigError(f"area {a.area} is read-only", device=self.device, resource=name)
        if staged:
            why = m.health(pos)
            if why:
                raise self._fail(why)
            probe = bytearray(m.outputs(pos))
            for off, vt, v in staged:
                try:
                    encode_bits(probe, off, vt, v)
                except ValueError as e:
                    raise ValueRangeError(str(e), device=self.device) from None

            def update(image: bytearray) -> None:
                for off, vt, v in staged:
                    encode_bits(image, off, vt, v)

            m.stage(pos, update)
        for name, value in values.items():
            a = self._attrs(name)
            if a.area == "sdo":
                await self._sdo_write(name, a, pos, value)

    async def _sdo_write(self, name: str, a: EtherCatAttributes, pos: int, value: Any) -> None:
        try:
            data = encode_bytes(value, a.value_type)
        except ValueError as e:
            raise ValueRangeError(str(e), device=self.device, resource=name) from None
        m = self.master
        try:
            await asyncio.to_thread(m.sdo_write, pos, a.index or 0, a.subindex, data, a.complete_access)
        except SoemError as e:
            raise DeviceIOError(f"SDO write {a.address}: {e}", device=self.device, resource=name) from None


def create_driver(device: Device, profile: DeviceProfile, options: Any) -> EtherCatDriver:
    """Driver factory registered for ``ethercat``.

    Raises:
        ProfileConfigError: invalid protocol properties or resource attributes (naming the resource).
    """
    opts = options if isinstance(options, EtherCatOptions) else EtherCatOptions()
    link = parse_link(device.name, device.protocols)
    return EtherCatDriver(device.name, link, parse_profile_attributes(profile, device.name), opts)
