"""The process table of a local suite: nats-server, the services, the cloud receiver and demo simulators (a Modbus
pump and a secured OPC UA mixer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from edgewatch.protocols.opcua.security import Pki
from edgewatch.sim.opcua.server import APPLICATION_URI as OPCUA_SIM_URI
from edgewatch.suite.layout import SuiteConfig
from edgewatch.suite.natsconf import nats_server_binary, write_nats_config
from edgewatch.suite.natsusers import CORE_ALL_USER, SERVICE_USERS, password_file_name
from edgewatch.suite.schedclass import SchedClass, actuation_cpus, background_cpus
from edgewatch.suite.supervisor import ProcSpec

__all__ = [
    "ACTUATION",
    "ANALYTICS",
    "BACKGROUND",
    "GROUPS",
    "GROUP_ENV",
    "GROUP_OF",
    "MALLOC_TRIM_ENV",
    "REST_PORTS",
    "SERVICE_PORTS",
    "build_specs",
    "child_name",
    "client_rt_priority",
    "ping_url",
    "service_env",
]

# service -> the port names (Ports fields) its REST apps listen on. core serves core-data, core-metadata and
# core-command from one process (Core.Apis, all three): rules sends its SETs straight to the device service (its
# direct route), so core-command is off the actuation path, and a process of its own cost ~55 MB RSS. compose and
# Helm still run core-command as a container of its own (docs/ARCHITECTURE.md, section 2).
SERVICE_PORTS: dict[str, tuple[str, ...]] = {
    "core": ("core_data", "core_metadata", "core_command"),
    "ingest": ("ingest",),
    "features": ("features",),
    "inference": ("inference",),
    "rules": ("rules",),
    "sync": ("sync",),
    "receiver": ("receiver",),
    "console": ("console",),
}


# every REST port of the suite (Ports field names), in documentation order
REST_PORTS: tuple[str, ...] = tuple(name for names in SERVICE_PORTS.values() for name in names)

# services whose work can wait (persistence, buffering, the cloud side, the operator's live views, core-command's
# read-backs and operator commands): they run with SuiteConfig.background_nice and SCHED_BATCH, so under overload
# the actuation path (ingest, rules) and then the analytics keep the CPU. The console decodes every event for its
# live history (13-19% of a core at 1,000 events/s in bench/e2e.py), which can wait as well as a chart can.
BACKGROUND = frozenset({"core", "sync", "receiver", "console"})
# the analytics (feature windows, anomaly scores): between the two. They may wait for the actuation path, but not
# behind persistence and upload: scores feed rules, and a burst of events should turn into scores before core-data
# and sync have stored and uploaded it (they catch up from their queues and streams). They run at
# SuiteConfig.analytics_nice without SCHED_BATCH, on the background CPUs (schedclass.background_cpus), so on a
# 2-CPU gateway they take the background CPU from persistence and upload during a burst (bench/e2e.py's throughput
# phase) and leave the actuation path's CPU alone.
ANALYTICS = frozenset({"features", "inference"})
# services that run together in one process (edgewatch.common.service.group) unless SuiteConfig.group_background
# is off: a Python service's imports and apps cost 55-60 MB RSS before it does any work, and one process pays them
# once. A group holds services of one scheduling class only (a process has one class): the background one (core
# with core-command, sync, the console) and the analytics (features, inference). Members give up their own GIL (on
# a 2-CPU gateway both groups share one CPU anyway: schedclass.background_cpus) and fail and restart together.
# core leads its group: everything waits for core-metadata at startup, and its lifespan starts first.
GROUPS: dict[str, tuple[str, ...]] = {
    "edgewatch-background": ("core", "sync", "console"),
    "edgewatch-analytics": ("features", "inference"),
}
GROUP_OF = {svc: name for name, members in GROUPS.items() for svc in members}
# what edgewatch.common.service.group reads each member's own environment from (JSON: package -> variables); spelled
# here so the suite imports no service code (tests/suite checks it is the group module's ENV_VAR)
GROUP_ENV = "EDGEWATCH_GROUP_ENV"
# edgewatch.common.service.malloctrim's period variable (seconds, 0 = off), spelled here as GROUP_ENV is
MALLOC_TRIM_ENV = "EDGEWATCH_MALLOC_TRIM_EVERY"
# services on the actuation path (an event -> rules -> the device service); nats-server too: with
# SuiteConfig.actuation_rt_priority (else SuiteConfig.actuation_slice_us) they run first after a wakeup (schedclass.py)
ACTUATION = frozenset({"ingest", "rules"})
# what the others call (core's REST APIs, the receiver's upload endpoint; the demo's simulated devices): a shutdown
# stops these after the rest (ProcSpec.stop_rank), so e.g. ingest does not see its devices vanish and then fail to
# mark them DOWN in a core-metadata that is stopping too
CALLED = frozenset({"core", "receiver"})


def ping_url(port: int) -> str:
    """EdgeX ping URL on loopback."""
    return f"http://127.0.0.1:{port}/api/v3/ping"


def _repo_res(service: str) -> Path:
    """``services/<svc>/res`` of an editable checkout."""
    import importlib.util

    spec = importlib.util.find_spec(f"edgewatch.{service}")  # located, not imported: the suite imports no service
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"edgewatch.{service} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve().parents[2] / "res"


def service_env(cfg: SuiteConfig) -> dict[str, str]:
    """Environment every service gets (EdgeX-style overrides)."""
    p = cfg.ports
    env = {
        "EDGEWATCH_DATA_DIR": str(cfg.data_dir),
        "MESSAGEBUS_HOST": "127.0.0.1",
        "MESSAGEBUS_PORT": str(p.nats),
        "WRITABLE_LOGLEVEL": cfg.log_level,
        "PYTHONUNBUFFERED": "1",
    }
    if cfg.auth:
        env["SERVICE_AUTHTOKENFILE"] = str(cfg.secret_path("api-token"))
    if cfg.mqtt:  # MQTT subscribers see no NATS headers: EdgeX topics carry the whole envelope in the body
        env["MESSAGEBUS_FORMAT"] = "json"
    return env


def _svc_env(cfg: SuiteConfig, service: str) -> dict[str, str]:
    p = cfg.ports
    env = service_env(cfg)
    if service in ACTUATION:
        # no periodic malloc_trim on the actuation path: a trim holds the C heap's lock for up to a few ms (the
        # first one after a burst), and ingest and rules hold a flat heap anyway (soak: +0.3 and +0.1 MB/h)
        env[MALLOC_TRIM_ENV] = "0"
    if cfg.auth and service in SERVICE_USERS:  # its own NATS user (the receiver does not join the bus)
        user = CORE_ALL_USER if service == "core" else service  # core does core-command's work too
        env["MESSAGEBUS_USER"] = user
        env["MESSAGEBUS_PASSWORDFILE"] = str(cfg.secrets_dir / password_file_name(user))
    if service == "core":
        env.update(
            {
                "SERVICE_PORT": str(p.core_metadata),
                "CORE_DATAPORT": str(p.core_data),
                "CORE_METADATAPORT": str(p.core_metadata),
                "CORE_COMMANDPORT": str(p.core_command),
                "CORE_APIS": "[metadata, data, command]",
            }
        )
    else:
        env["SERVICE_PORT"] = str(getattr(p, SERVICE_PORTS[service][0]))
    if service == "ingest":
        env.update(
            {
                "CLIENTS_COREMETADATA_HOST": "127.0.0.1",
                "CLIENTS_COREMETADATA_PORT": str(p.core_metadata),
                "EDGEWATCH_DEMO_MODBUS_PORT": str(p.modbus_sim),
                "EDGEWATCH_DEMO_OPCUA_PORT": str(p.opcua_sim),
            }
        )
        if cfg.auth:
            env["CLIENTS_COREMETADATA_AUTHTOKENFILE"] = str(cfg.secret_path("api-token"))
        if cfg.demo:
            res = _repo_res("ingest")
            env["DEVICE_PROFILESDIR"] = str(res / "profiles")
            env["DEVICE_DEVICESDIR"] = str(res / "devices")
        else:  # the user's own definition files; devices added over core-metadata REST need none
            for kind in ("profiles", "devices"):
                d = cfg.data_dir / "ingest" / kind
                d.mkdir(parents=True, exist_ok=True)
                env[f"DEVICE_{kind.upper()}DIR"] = str(d)
    if service == "sync":
        env["SINK_URL"] = f"http://127.0.0.1:{p.receiver}"
        if cfg.auth:
            env["SINK_TOKENFILE"] = str(cfg.secret_path("receiver-token"))
    if service == "rules":  # dry runs read recorded samples from core-data and the receiver
        env["DRYRUN_COREDATAURL"] = f"http://127.0.0.1:{p.core_data}"
        env["DRYRUN_RECEIVERURL"] = f"http://127.0.0.1:{p.receiver}"
        if cfg.auth:
            env["DRYRUN_COREDATATOKENFILE"] = str(cfg.secret_path("api-token"))
            env["DRYRUN_RECEIVERTOKENFILE"] = str(cfg.secret_path("receiver-token"))
    if service == "console":  # the operator's web console reads and drives the services on their local ports
        env.update(
            {
                "UPSTREAM_COREDATAURL": f"http://127.0.0.1:{p.core_data}",
                "UPSTREAM_COREMETADATAURL": f"http://127.0.0.1:{p.core_metadata}",
                "UPSTREAM_CORECOMMANDURL": f"http://127.0.0.1:{p.core_command}",
                "UPSTREAM_INGESTURL": f"http://127.0.0.1:{p.ingest}",
                "UPSTREAM_FEATURESURL": f"http://127.0.0.1:{p.features}",
                "UPSTREAM_INFERENCEURL": f"http://127.0.0.1:{p.inference}",
                "UPSTREAM_RULESURL": f"http://127.0.0.1:{p.rules}",
                "UPSTREAM_SYNCURL": f"http://127.0.0.1:{p.sync}",
            }
        )
    if service == "receiver" and cfg.auth:
        env["SERVICE_AUTHTOKENFILE"] = str(cfg.secret_path("receiver-token"))
    return env


def _opcua_sim(cfg: SuiteConfig) -> ProcSpec:
    """The demo's OPC UA mixer: secure endpoints only, user ``demo`` with a generated password; its certificate is
    made here and put in ingest's trust list (the explicit trust step an operator does for a real server)."""
    sim_pki = cfg.data_dir / "opcua" / "sim-pki"
    cert, _ = Pki(sim_pki).own_certificate(OPCUA_SIM_URI, name="edgewatch-sim")
    Pki(cfg.data_dir / "opcua" / "pki").trust(cert.read_bytes())
    password = cfg.secret_path("opcua-demo-password")
    return ProcSpec(
        "opcua-sim",
        [
            sys.executable,
            "-m",
            "edgewatch.sim.opcua",
            "--port",
            str(cfg.ports.opcua_sim),
            "--secure",
            "--pki",
            str(sim_pki),
            "--user",
            f"demo={password}",
            "--no-anonymous",
        ],
        tcp_port=cfg.ports.opcua_sim,
    )


def child_name(cfg: SuiteConfig, service: str) -> str:
    """The supervisor's child that runs ``service``."""
    return GROUP_OF[service] if cfg.group_background and service in GROUP_OF else f"edgewatch-{service}"


def _sched_class(cfg: SuiteConfig, svc: str) -> SchedClass:
    if svc in BACKGROUND:
        return "background" if cfg.background_batch else ""
    return "actuation" if svc in ACTUATION else ""


def _nice(cfg: SuiteConfig, svc: str) -> int:
    if svc in BACKGROUND:
        return cfg.background_nice
    return cfg.analytics_nice if svc in ANALYTICS else 0


def client_rt_priority(cfg: SuiteConfig) -> int:
    """The SCHED_FIFO priority of the actuation path's services (0: none): one above nats-server's, so a woken
    service preempts a bus thread that is running instead of waiting for it to block."""
    return cfg.actuation_rt_priority + 1 if cfg.actuation_rt_priority > 0 else 0


def build_specs(cfg: SuiteConfig) -> list[ProcSpec]:
    """nats-server first, then core (metadata before everything else), the rest, demo simulators."""
    p = cfg.ports
    conf = write_nats_config(cfg)
    actuation_slice = cfg.actuation_slice_us * 1000
    bg_cpus = background_cpus(cfg.background_cpus)
    # real-time, ingest and rules keep off the analytics' and the background's CPUs (their wake-ups would preempt
    # the analytics); nats-server, the bus of every class, may run on every CPU (kept to the same CPU as rules, an
    # event's transit and rules' work on it queued behind each other: reading -> command p50 2.84 ms against 2.06)
    rt_cpus = actuation_cpus(bg_cpus)
    specs = [
        ProcSpec(
            "nats-server",
            [nats_server_binary(), "-c", str(conf)],
            tcp_port=p.nats,
            sched="actuation",
            slice_ns=actuation_slice,
            rt_priority=cfg.actuation_rt_priority,
            env={"GOGC": str(cfg.nats_gogc)} if cfg.nats_gogc > 0 else {},
        )
    ]
    if cfg.demo:
        res = _repo_res("ingest")
        specs.append(
            ProcSpec(
                "modbus-sim",
                [
                    sys.executable,
                    "-m",
                    "edgewatch.sim.modbus",
                    "--profile",
                    str(res / "profiles" / "demo-pump.yaml"),
                    "--port",
                    str(p.modbus_sim),
                    "--demo-pump",
                    "--rise",
                    str(cfg.demo_rise),
                ],
                tcp_port=p.modbus_sim,
            )
        )
        specs.append(_opcua_sim(cfg))
    order = ["core", "receiver", "sync", "ingest", "features", "inference", "rules", "console"]
    if cfg.group_background:  # a group starts where its first member did
        order = list(dict.fromkeys(GROUP_OF.get(svc, svc) for svc in order))
    for svc in order:
        members = GROUPS.get(svc, (svc,))
        urls = tuple(ping_url(getattr(p, name)) for m in members for name in SERVICE_PORTS[m])
        if svc in GROUPS:
            argv = [sys.executable, "-m", "edgewatch.common.service.group", "--name", svc]
            argv += [f"edgewatch.{m}" for m in members]
            own = {f"edgewatch.{m}": _svc_env(cfg, m) for m in members}
            env = {**service_env(cfg), GROUP_ENV: json.dumps(own, sort_keys=True)}
            name = svc
        else:
            argv, env, name = [sys.executable, "-m", f"edgewatch.{svc}"], _svc_env(cfg, svc), f"edgewatch-{svc}"
        cls = members[0]  # a group's members share one class (GROUPS)
        specs.append(
            ProcSpec(
                name,
                argv,
                env,
                ping_urls=urls,
                nice=_nice(cfg, cls),
                sched=_sched_class(cfg, cls),
                slice_ns=actuation_slice if cls in ACTUATION else 0,
                rt_priority=client_rt_priority(cfg) if cls in ACTUATION else 0,
                rt_cpus=rt_cpus if cls in ACTUATION else None,
                cpus=bg_cpus if cls in BACKGROUND or cls in ANALYTICS else None,
                stop_rank=0 if cls in CALLED else 1,
            )
        )
    return specs
