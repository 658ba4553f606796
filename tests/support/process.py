"""Child processes the tests start (nats-server, mosquitto, services): spawn with a log, wait until ready, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["kill9", "spawn", "tcp_accepts", "terminate", "wait_ready"]


def spawn(args: list[str], log_path: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``args`` with stdout and stderr appended to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **popen)


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    what: str,
    logs: Callable[[], str],
    timeout: float,
    poll: float = 0.05,
) -> None:
    """Wait until ``ready()``; raise with the tail of ``logs()`` if the process exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {logs()[-3000:]}")
        if ready():
            return
        time.sleep(poll)
    raise RuntimeError(f"{what} not ready within {timeout}s: {logs()[-3000:]}")


def tcp_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """True when a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM (after SIGCONT, in case the test froze it), then SIGKILL after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def kill9(proc: subprocess.Popen[bytes] | None) -> None:
    """kill -9: no shutdown path runs."""
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
