"""Where a local edgewatch suite keeps its state and which ports it uses (one data directory for everything)."""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from edgewatch.common.contracts import ports

__all__ = ["DEFAULT_DATA_DIR", "Ports", "SuiteConfig", "free_port", "resolve_data_dir"]

DEFAULT_DATA_DIR = "~/.local/share/edgewatch"


def resolve_data_dir(cli_value: str | None) -> Path:
    """``--data-dir``, else ``$EDGEWATCH_DATA_DIR``, else ``~/.local/share/edgewatch``."""
    raw = cli_value or os.environ.get("EDGEWATCH_DATA_DIR") or DEFAULT_DATA_DIR
    return Path(os.path.expanduser(raw)).resolve()


_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PICK = 10_000  # below: well-known and registered services' ports (the suite's own defaults among them)


def _ephemeral_low() -> int | None:
    """The lowest port the kernel gives outgoing connections (None where it cannot be read)."""
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def free_port(taken: frozenset[int] = frozenset()) -> int:
    """A loopback TCP port that is free now and not in ``taken``, for a listener started soon after.

    Picked at random below the kernel's ephemeral range where that range is known: outgoing connections take their
    local ports from it, and one did take a port picked there (bind to port 0) before its service bound it, which
    failed with "address already in use". Elsewhere, or when no port below is free, the kernel picks one.
    """
    low = _ephemeral_low()
    if low is not None and low > _LOWEST_PICK + 1000:
        for _ in range(200):
            port = random.randrange(_LOWEST_PICK, low)
            if port in taken:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in taken:
            return port


@dataclass(frozen=True)
class Ports:
    """Every port of the suite; defaults come from :mod:`edgewatch.common.contracts.ports`."""

    nats: int = ports.NATS
    nats_monitor: int = ports.NATS_MONITOR
    core_data: int = ports.CORE_DATA
    core_metadata: int = ports.CORE_METADATA
    core_command: int = ports.CORE_COMMAND
    ingest: int = ports.INGEST
    features: int = ports.FEATURES
    inference: int = ports.INFERENCE
    rules: int = ports.RULES
    sync: int = ports.SYNC
    receiver: int = ports.RECEIVER
    modbus_sim: int = ports.MODBUS_SIM
    mqtt: int = ports.MQTT  # nats-server's MQTT listener, only with `edgewatch up --mqtt`
    opcua_sim: int = ports.OPCUA_SIM
    console: int = ports.CONSOLE

    @classmethod
    def free(cls) -> Ports:
        """A set of currently free loopback ports (tests run beside a developer's suite)."""
        picked: list[int] = []
        for _ in dataclasses.fields(cls):
            picked.append(free_port(frozenset(picked)))
        return cls(*picked)

    @classmethod
    def parse(cls, spec: str) -> Ports:
        """``name=port,name=port`` overrides of the defaults (e.g. ``nats=14222,ingest=15900``).

        Raises:
            ValueError: an unknown name or a bad port.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        over: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in spec.split(","))):
            k, _, v = item.partition("=")
            if k not in names:
                raise ValueError(f"--ports: unknown port name {k!r} (known: {', '.join(sorted(names))})")
            port = int(v)
            if not 0 < port < 65536:
                raise ValueError(f"--ports: {k}={v} is not a TCP port")
            over[k] = port
        return dataclasses.replace(cls(), **over)

    def as_dict(self) -> dict[str, int]:
        """Name -> port."""
        return dataclasses.asdict(self)


@dataclass
class SuiteConfig:
    """What ``edgewatch up`` runs."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    demo: bool = False
    auth: bool = True
    log_level: str = "INFO"
    demo_rise: float = 0.05  # demo pump vibration rise, mm/s per second (tests speed it up)
    mqtt: bool = False  # EdgeX MQTT interop: nats-server's MQTT listener + every service in EdgeX's json format
    mqtt_host: str = "127.0.0.1"  # where the MQTT listener binds (0.0.0.0 for EdgeX services in containers)
    # niceness added to the services whose work can wait (core, sync, the receiver, the console): on a saturated
    # gateway the kernel runs the actuation path (nats-server, ingest, rules) and the analytics first
    background_nice: int = 10
    # niceness of the analytics (features, inference; services.ANALYTICS): above the background services' weight,
    # so a burst turns into scores before it is stored and uploaded
    analytics_nice: int = 0
    # EEVDF slice of the actuation path (nats-server, ingest, rules), microseconds (0: the kernel's):
    # woken by a message, they preempt the background services instead of waiting out their slice (schedclass.py)
    actuation_slice_us: int = 100
    # SCHED_FIFO priority of nats-server where the suite may set one (root, CAP_SYS_NICE or RLIMIT_RTPRIO; else the
    # slice above); ingest and rules run one above it, so a woken client is not queued behind a busy bus thread
    # (FIFO tasks of one priority do not preempt each other). 0: no real-time priority (schedclass.py)
    actuation_rt_priority: int = 10
    # the background services also run SCHED_BATCH: their wakeups (one per event) never preempt a running task
    background_batch: bool = True
    # CPUs the background services are confined to (schedclass.background_cpus): "auto" (the upper half of the
    # CPUs, when there are two or more), "all" (not confined) or a CPU list such as "2-3"; the actuation path may
    # run on every CPU, so a woken actuation process finds a CPU with no background work on it
    background_cpus: str = "auto"
    # core, sync and the console run in one process, features and inference in another (services.GROUPS): their
    # imports and apps cost 55-60 MB RSS a process; False gives each a process of its own
    group_background: bool = True
    # Go's GOGC for the bundled nats-server (0: Go's default, 100). 50 halves its heap's headroom between collections
    # (a smaller RSS sawtooth in a soak) but cost the actuation path about 0.2 ms at p50 in interleaved bench runs,
    # so it is off by default (docs/ARCHITECTURE.md, memory)
    nats_gogc: int = 0

    @property
    def logs_dir(self) -> Path:
        """Per-process log files."""
        return self._dir("logs")

    @property
    def run_dir(self) -> Path:
        """Runtime state (pids, ports) read by ``edgewatch status``."""
        return self._dir("run")

    @property
    def secrets_dir(self) -> Path:
        """``<data>/secrets`` (mode 0700), laid out like ``edgewatch secrets init``."""
        d = self._dir("secrets")
        os.chmod(d, 0o700)
        return d

    def nats_credentials(self, user: str) -> tuple[str, str]:
        """(user, password) of a NATS user of the permission table (``admin`` for operator tools and tests)."""
        from edgewatch.suite.natsusers import password_file_name

        return user, (self.secrets_dir / password_file_name(user)).read_text(encoding="utf-8").strip()

    def _dir(self, name: str) -> Path:
        p = self.data_dir / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    def secret(self, name: str) -> str:
        """A random secret kept in ``<data>/secrets/<name>`` (mode 0600), created on first use."""
        d = self._dir("secrets")
        os.chmod(d, 0o700)
        path = d / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
            os.chmod(path, 0o600)
        return path.read_text(encoding="utf-8").strip()

    def secret_path(self, name: str) -> Path:
        """Path of a secret file (created if needed)."""
        self.secret(name)
        return self.data_dir / "secrets" / name
