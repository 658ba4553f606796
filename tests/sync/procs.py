"""Real service processes for chaos tests: start, kill -9, SIGSTOP/SIGCONT, restart; readiness over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["ServiceProc"]

REPO = Path(__file__).resolve().parents[2]


class ServiceProc:
    """``python -m <module>`` with an environment, logging to a file in the test's temp dir."""

    def __init__(self, module: str, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.port = port
        self.log_path = log_dir / f"{module}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until ``/api/v3/ping`` answers."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module], env=self.env, cwd=REPO, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited: {self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v3/ping", timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.module} not ready: {self.log_path.read_text(errors='replace')[-3000:]}")

    def kill9(self) -> None:
        """kill -9 (no shutdown path runs)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def freeze(self) -> None:
        """SIGSTOP: the process holds its sockets but answers nothing."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM, then kill after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
