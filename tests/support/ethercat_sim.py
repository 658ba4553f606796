"""The EtherCAT slave emulator on the far end of a veth pair inside a network namespace the test creates.

Needs root (``ip netns``, raw sockets) and the ``ip`` tool: without them the test is skipped with that reason
locally and fails under CI (``tests.support.shared.absent``). :func:`start_line` creates the namespace and the
pair, starts ``python -m edgewatch.sim.ethercat`` inside it and waits for ``ready``; :func:`stop_line` stops it
and removes both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.process import spawn, terminate, wait_ready
from tests.support.shared import absent

__all__ = ["EtherCatLine", "require_root", "start_line", "stop_line"]


def require_root() -> None:
    """Skip (fail under CI) unless root with ``ip`` available."""
    if os.geteuid() != 0:
        absent("EtherCAT emulator tests need root (ip netns, veth, raw sockets); run as root as CI does")
    if shutil.which("ip") is None:
        absent("EtherCAT emulator tests need the ip tool (iproute2)")


@dataclass(slots=True)
class EtherCatLine:
    """A running emulated line: the master's interface, the namespace and the emulator's control socket."""

    iface: str
    netns: str
    slave_iface: str
    control_path: str
    workdir: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def control(self, command: str) -> str:
        """Send one control command (``drop 2``, ``restore 2``, ``fault 1 0x1B``, ``state``); the answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.control_path)
            with s.makefile("rw") as f:
                f.write(command + "\n")
                f.flush()
                answer = f.readline().strip()
        if not answer.startswith("ok"):
            raise RuntimeError(f"emulator refused {command!r}: {answer}")
        return answer


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _no_ipv6(iface: str) -> None:
    # keeps router solicitations and MLD reports off the master's interface (not 0x88A4, but noise all the same)
    with contextlib.suppress(OSError):
        Path(f"/proc/sys/net/ipv6/conf/{iface}/disable_ipv6").write_text("1")


def start_line(tag: str = "") -> EtherCatLine:
    """Create ``ewnsN`` with a veth pair ``ewmN`` (host, master side) / ``ewsN`` (namespace) and start the emulator."""
    require_root()
    n = f"{os.getpid() % 100000}{tag}"
    workdir = tempfile.mkdtemp(prefix="ewecat")
    line = EtherCatLine(f"ewm{n}", f"ewns{n}", f"ews{n}", f"{workdir}/ctl", workdir, Path(workdir) / "sim.log")
    stop_line(line, quiet=True)
    _ip("netns", "add", line.netns)
    _ip("link", "add", line.iface, "type", "veth", "peer", "name", line.slave_iface)
    _ip("link", "set", line.slave_iface, "netns", line.netns)
    _no_ipv6(line.iface)
    _ip("link", "set", line.iface, "up")
    _ip("netns", "exec", line.netns, "ip", "link", "set", line.slave_iface, "up")
    cmd = ["ip", "netns", "exec", line.netns, sys.executable, "-m", "edgewatch.sim.ethercat"]
    line.proc = spawn([*cmd, "--iface", line.slave_iface, "--control", line.control_path], line.log)
    wait_ready(
        line.proc,
        lambda: "ready" in line.log.read_text() and os.path.exists(line.control_path),
        "EtherCAT emulator",
        lambda: line.log.read_text(),
        timeout=20,
    )
    return line


def stop_line(line: EtherCatLine, quiet: bool = False) -> None:
    """Stop the emulator (waiting for it to exit: one responder per wire), remove the namespace and the pair."""
    terminate(line.proc)
    for args in (("netns", "del", line.netns), ("link", "del", line.iface)):
        subprocess.run(["ip", *args], capture_output=True, timeout=10)
    if not quiet:
        shutil.rmtree(line.workdir, ignore_errors=True)
