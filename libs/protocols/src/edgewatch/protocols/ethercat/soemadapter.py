"""pysoem (SOEM) behind one module: every pysoem call edgewatch makes, with pysoem pinned and checked at import.

The rest of edgewatch talks to :class:`SoemLine` and sees positions (1-based), bytes and ints, never pysoem
objects. A missing or reshaped pysoem attribute raises ImportError naming the installed version and the attribute.
pysoem releases the GIL in every call here (``always_release_gil``), so the cyclic thread, the supervisor thread and
SDO calls from the asyncio side run side by side, as SOEM's own examples run its process data and check threads.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pysoem

__all__ = ["PINNED", "SdoAbortError", "SoemError", "SoemLine", "check"]

PINNED = "1.1.13"
_MASTER_ATTRS = (
    "open",
    "close",
    "config_init",
    "config_map",
    "send_processdata",
    "receive_processdata",
    "read_state",
    "write_state",
    "state_check",
    "expected_wkc",
    "always_release_gil",
)
_SLAVE_ATTRS = (
    "name",
    "man",
    "id",
    "rev",
    "input",
    "output",
    "state",
    "al_status",
    "write_state",
    "reconfig",
    "recover",
    "is_lost",
    "sdo_read",
    "sdo_write",
    "eeprom_read",
)


def check(master_cls: type[Any] = pysoem.Master, slave_cls: type[Any] = pysoem.CdefSlave) -> None:
    """Raise ImportError when a pysoem attribute edgewatch uses is missing (``Master.slaves`` is set per instance,
    so it is checked when a line is configured)."""
    version = importlib.metadata.version("pysoem")
    for cls, names in ((master_cls, _MASTER_ATTRS), (slave_cls, _SLAVE_ATTRS)):
        for name in names:
            if not hasattr(cls, name):
                raise ImportError(
                    f"pysoem {version} (edgewatch is pinned to {PINNED}): {cls.__name__}.{name} is missing"
                )


check()


class SoemError(Exception):
    """SOEM failed (no slaves, mapping failed, a packet or working-counter error)."""


class SdoAbortError(SoemError):
    """The slave aborted an SDO transfer; ``code`` is the CoE abort code."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"SDO abort 0x{code:08X} ({text})")
        self.code = code


STATE_ACK = int(pysoem.STATE_ACK)
OP_STATE = int(pysoem.OP_STATE)


class SoemLine:
    """One SOEM context on one network interface."""

    def __init__(self, iface: str) -> None:
        self.iface = iface
        self._m = pysoem.Master()
        self._m.always_release_gil = True
        self._slaves: list[Any] = []

    # --- setup ------------------------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the raw socket (root, or CAP_NET_RAW).

        Raises:
            SoemError: the interface cannot be opened.
        """
        try:
            self._m.open(self.iface)
        except (ConnectionError, OSError, pysoem.NetworkInterfaceNotOpenError) as e:  # type: ignore[misc]
            raise SoemError(f"cannot open {self.iface}: {e}") from None

    def close(self) -> None:
        """Close the socket."""
        self._m.close()

    def configure(self) -> int:
        """Enumerate the line and map every slave's process data (slaves end in SAFE_OP); the slave count.

        Raises:
            SoemError: no slave answered, or mapping failed.
        """
        count = int(self._m.config_init())
        if count <= 0:
            raise SoemError(f"no slave answers on {self.iface}")
        try:
            self._m.config_map()
        except pysoem.ConfigMapError as e:
            raise SoemError(f"config_map failed: {e}") from None
        self._slaves = list(self._m.slaves)
        return count

    @property
    def expected_wkc(self) -> int:
        """SOEM's expected working counter of a process data frame with every slave in OP."""
        return int(self._m.expected_wkc)

    # --- per slave ------------------------------------------------------------------------------------------

    def _s(self, position: int) -> Any:
        return self._slaves[position - 1]

    def identity(self, position: int) -> tuple[str, int, int, int]:
        """(name, vendor id, product code, revision) from the SII."""
        s = self._s(position)
        return str(s.name), int(s.man), int(s.id), int(s.rev)

    def sizes(self, position: int) -> tuple[int, int]:
        """(output bytes, input bytes) SOEM mapped for the slave."""
        s = self._s(position)
        return len(s.output), len(s.input)

    def sii_read(self, position: int, word: int) -> bytes:
        """Four SII bytes from ``word``."""
        return bytes(self._s(position).eeprom_read(word, 20000))

    def input(self, position: int) -> bytes:
        """The slave's input image of the last received frame."""
        return bytes(self._s(position).input)

    def set_output(self, position: int, data: bytes) -> None:
        """The slave's output image for the next frame (call from the cyclic thread)."""
        self._s(position).output = data

    def state(self, position: int) -> tuple[int, int]:
        """(AL status, AL status code) as of the last :meth:`read_state`."""
        s = self._s(position)
        return int(s.state), int(s.al_status)

    def request(self, position: int, state: int) -> None:
        """Write AL control of one slave."""
        s = self._s(position)
        s.state = state
        s.write_state()

    def reconfig(self, position: int, timeout_us: int) -> int:
        """Take a slave back through INIT/PRE_OP to SAFE_OP with its SMs and FMMUs; the state reached."""
        return int(self._s(position).reconfig(timeout_us))

    def recover(self, position: int, timeout_us: int) -> bool:
        """Find a lost slave again at its position and give back its station address."""
        return int(self._s(position).recover(timeout_us)) > 0

    def sdo_read(self, position: int, index: int, subindex: int, size: int = 0, ca: bool = False) -> bytes:
        """Upload an object.

        Raises:
            SdoAbortError: the slave aborted.
            SoemError: mailbox, packet or working-counter failure.
        """
        try:
            return bytes(self._s(position).sdo_read(index, subindex, size or 256, ca))
        except pysoem.SdoError as e:
            raise SdoAbortError(int(e.abort_code), str(e.desc)) from None
        except (pysoem.MailboxError, pysoem.PacketError, pysoem.WkcError) as e:
            raise SoemError(f"SDO upload 0x{index:04X}:{subindex:02X} failed: {e!r}") from None

    def sdo_write(self, position: int, index: int, subindex: int, data: bytes, ca: bool = False) -> None:
        """Download an object.

        Raises:
            SdoAbortError: the slave aborted.
            SoemError: mailbox, packet or working-counter failure.
        """
        try:
            self._s(position).sdo_write(index, subindex, data, ca)
        except pysoem.SdoError as e:
            raise SdoAbortError(int(e.abort_code), str(e.desc)) from None
        except (pysoem.MailboxError, pysoem.PacketError, pysoem.WkcError) as e:
            raise SoemError(f"SDO download 0x{index:04X}:{subindex:02X} failed: {e!r}") from None

    # --- the line -------------------------------------------------------------------------------------------

    def request_all(self, state: int) -> None:
        """Write AL control of every slave (broadcast)."""
        self._m.state = state
        self._m.write_state()

    def read_state(self) -> int:
        """Read every slave's AL status (and code); the lowest state."""
        return int(self._m.read_state())

    def exchange(self, timeout_us: int) -> int:
        """Send process data and receive it back; the working counter (<= 0: lost)."""
        self._m.send_processdata()
        return int(self._m.receive_processdata(timeout_us))
