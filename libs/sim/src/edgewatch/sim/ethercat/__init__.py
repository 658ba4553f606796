"""A software EtherCAT slave line for tests and the demo: a CoE drive and an SII-only I/O slave behind a raw socket.

``python -m edgewatch.sim.ethercat --iface IFACE [--control SOCKET]`` answers SOEM (pysoem) on the far end of a
veth pair; see ``devices`` for the slaves and ``server`` for the control commands.
"""

from __future__ import annotations

from edgewatch.sim.ethercat.chain import Chain
from edgewatch.sim.ethercat.devices import DRIVE_PRODUCT, FIXED_INPUTS, IO_PRODUCT, VENDOR_ID, drive_slave, io_slave
from edgewatch.sim.ethercat.server import EmulatorServer

__all__ = [
    "DRIVE_PRODUCT",
    "FIXED_INPUTS",
    "IO_PRODUCT",
    "VENDOR_ID",
    "Chain",
    "EmulatorServer",
    "default_chain",
    "drive_slave",
    "io_slave",
]


def default_chain() -> Chain:
    """The drive at position 1 and the I/O slave at position 2."""
    return Chain([drive_slave(), io_slave()])
