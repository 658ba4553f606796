"""A real mosquitto broker (Debian's package) on a free loopback port, with a temp config and persistence.

Tests can stop (SIGTERM: mosquitto saves its persistence file) and start it again on the same port and store.
Where the binary is absent the test is skipped, except under CI (``CI`` set), where that is a failure:
``.ci/run`` installs it (``apt-get install -y mosquitto``).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.support.ports import free_port
from tests.support.process import spawn, tcp_accepts, terminate, wait_ready
from tests.support.shared import absent

__all__ = ["Mosquitto", "mosquitto_binary"]


def mosquitto_binary() -> str:
    """Path of the mosquitto binary; skips the test when it is missing (fails under CI)."""
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None
    )
    if not found:
        absent("mosquitto is not installed (apt-get install -y mosquitto; CI's .ci/run installs it)")
    return found


class Mosquitto:
    """Spawn and control one mosquitto process; ``extra`` lines are appended to its configuration."""

    def __init__(self, extra: list[str] | None = None) -> None:
        self.binary = mosquitto_binary()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ew-mosquitto-"))
        self.extra = extra or []
        self.conf = self.dir / "mosquitto.conf"
        self.log_path = self.dir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The sink URL of this broker."""
        return f"mqtt://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        """(Re)write the configuration: loopback listener, persistence in the temp dir, unbounded queues."""
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.dir}/",
            "autosave_interval 1",
            "max_queued_messages 0",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            lines.append(f"user {getpass.getuser()}")  # as root mosquitto would switch to user 'mosquitto'
        self.conf.write_text("\n".join([*lines, *self.extra]) + "\n", encoding="utf-8")

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the listener accepts connections."""
        if not self.conf.exists():
            self.write_config()
        self.proc = spawn([self.binary, "-c", str(self.conf)], self.dir / "stdout.log")
        wait_ready(self.proc, lambda: tcp_accepts(self.port), "mosquitto", self.logs, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (persistence is saved), then kill after ``timeout``."""
        terminate(self.proc, timeout)
        self.proc = None

    def reload(self) -> None:
        """SIGHUP: mosquitto re-reads its ACL and password files."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def logs(self) -> str:
        """Broker log text."""
        parts = [p.read_text(errors="replace") for p in (self.log_path, self.dir / "stdout.log") if p.exists()]
        return "\n".join(parts)

    def cleanup(self) -> None:
        """Stop and delete the temp dir."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
