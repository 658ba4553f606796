"""Real service processes for chaos tests: start, kill -9, SIGSTOP/SIGCONT, restart; readiness over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.process import kill9, spawn, terminate, wait_ready

__all__ = ["ServiceProc", "oracle_sync"]

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
        self.proc = spawn([sys.executable, "-m", self.module], self.log_path, env=self.env, cwd=REPO)
        wait_ready(self.proc, self._pings, self.module, lambda: self.log_path.read_text(errors="replace"), timeout, 0.1)

    def _pings(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v3/ping", timeout=0.5):
                return True
        except OSError:
            return False

    def kill9(self) -> None:
        """kill -9 (no shutdown path runs)."""
        kill9(self.proc)
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
        """SIGTERM (after SIGCONT), then kill after 10 s."""
        terminate(self.proc)
        self.proc = None


def oracle_sync(nats_url: str, tmp_path: Path, port: int, **sink_env: str) -> ServiceProc:
    """The sync process the counting oracles drive: fast retries, small batches, ``SINK_*`` from ``sink_env``."""
    env = {
        "SERVICE_PORT": str(port),
        "MESSAGEBUS_SERVERS": f"[{nats_url}]",
        "MESSAGEBUS_RECONNECTWAIT": "0.1",
        "SINK_TIMEOUT": "2",
        "SYNC_GATEWAYID": "gw-oracle",
        "SYNC_RETRYINITIAL": "0.05",
        "SYNC_RETRYMAX": "0.5",
        "SYNC_BATCHMAXMSGS": "200",
        "EDGEWATCH_DATA_DIR": str(tmp_path / "sync-data"),
        "WRITABLE_LOGLEVEL": "WARN",
        **{f"SINK_{k.upper()}": v for k, v in sink_env.items()},
    }
    return ServiceProc("edgewatch.sync", env, port, tmp_path)
