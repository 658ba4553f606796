"""The ``edgewatch`` command: ``up`` runs the whole suite locally (no Docker), ``status`` reports on it, ``opcua
browse`` writes an EdgeX device profile for an OPC UA server's variables."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

from edgewatch.suite import modelcmd, opcuacmd, secretscmd
from edgewatch.suite.layout import DEFAULT_DATA_DIR, Ports, SuiteConfig, resolve_data_dir
from edgewatch.suite.natsusers import ADMIN_USER, EDGEX_USER, password_file_name
from edgewatch.suite.schedclass import background_cpus
from edgewatch.suite.services import build_specs
from edgewatch.suite.status import SCRAPE_EVERY_S, WINDOW_S, ScrapeLog, collect_status, format_status, scrape
from edgewatch.suite.supervisor import Supervisor

__all__ = ["main", "run_up"]


async def _record_scrapes(cfg: SuiteConfig) -> None:
    """Every SCRAPE_EVERY_S, one scrape of every service into <data>/run/scrapes.json (``edgewatch status`` then
    shows rates and hop p99s over the last minute at once)."""
    log = ScrapeLog(cfg.run_dir / "scrapes.json")
    while True:
        await asyncio.sleep(SCRAPE_EVERY_S)
        with contextlib.suppress(OSError):
            log.append(await asyncio.to_thread(scrape, cfg.ports))


async def run_up(cfg: SuiteConfig, ready_timeout: float = 90.0) -> int:
    """Start everything, supervise until SIGINT/SIGTERM, then stop cleanly."""
    (cfg.run_dir / "ports.json").write_text(json.dumps(cfg.ports.as_dict()), encoding="utf-8")
    sup = Supervisor(build_specs(cfg), cfg.logs_dir, cfg.run_dir / "state.json")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    recorder: asyncio.Task[None] | None = None
    try:
        starting = asyncio.create_task(sup.start(ready_timeout))
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([starting, waiter], return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()
            p = cfg.ports
            print(f"edgewatch is up (data dir {cfg.data_dir}, logs in {cfg.logs_dir})", flush=True)
            print(f"  core-data :{p.core_data}  core-metadata :{p.core_metadata}  core-command :{p.core_command}")
            print(f"  ingest :{p.ingest}  features :{p.features}  inference :{p.inference}  rules :{p.rules}")
            print(f"  sync :{p.sync}  receiver :{p.receiver}  NATS :{p.nats} (monitoring :{p.nats_monitor})")
            print(f"  console: http://127.0.0.1:{p.console}/ (log in with the REST token)")
            if cfg.mqtt:
                pw = cfg.secrets_dir / password_file_name(EDGEX_USER)
                how = f"user {EDGEX_USER}, password in {pw}" if cfg.auth else "no authentication"
                print(f"  EdgeX MQTT bus: mqtt://{cfg.mqtt_host}:{p.mqtt} ({how}; EdgeX json message format)")
            if cfg.auth:
                print(f"  NATS users and passwords: {cfg.secrets_dir} (operator tools: user {ADMIN_USER})")
                print(f"  REST bearer token: {cfg.secret_path('api-token')}  (ping needs none)")
            if cfg.demo:
                print(
                    f"  demo: Modbus pump on :{p.modbus_sim}, OPC UA mixer on :{p.opcua_sim}; watch `edgewatch status`"
                )
            print("Ctrl-C stops everything.", flush=True)
            recorder = asyncio.create_task(_record_scrapes(cfg))
            await waiter
        else:
            starting.cancel()
        return 0
    except (RuntimeError, TimeoutError) as e:
        print(f"edgewatch up failed: {e}", file=sys.stderr)
        return 1
    finally:
        if recorder is not None:
            recorder.cancel()
        print("stopping...", flush=True)
        await sup.stop()
        print("stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``edgewatch`` console script."""
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["model"] and args_in[1:2] and args_in[1] in ("train", "quantize", "eval"):
        return modelcmd.forward(args_in[1:])  # their own CLIs parse the rest (options included)
    ap = argparse.ArgumentParser(prog="edgewatch", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="run nats-server and every service locally, supervised")
    up.add_argument("--demo", action="store_true", help="also run simulated devices (a Modbus pump, an OPC UA mixer)")
    up.add_argument("--data-dir", help=f"all state lives here (env EDGEWATCH_DATA_DIR, default {DEFAULT_DATA_DIR})")
    up.add_argument("--ports", default="", help="port overrides: name=port,... (e.g. nats=14222)")
    up.add_argument("--no-auth", action="store_true", help="turn NATS and REST authentication off")
    up.add_argument(
        "--mqtt",
        action="store_true",
        help="EdgeX MQTT interop: nats-server also listens for MQTT (port name mqtt, 1883) and every service "
        "uses EdgeX's json message format, so stock EdgeX 4 services on their default MQTT bus join",
    )
    up.add_argument("--mqtt-host", default="127.0.0.1", help="where the MQTT listener binds (default loopback)")
    up.add_argument("--log-level", default="INFO")
    up.add_argument(
        "--background-nice",
        type=int,
        default=SuiteConfig.background_nice,
        help="niceness added to core (core-metadata, core-data, core-command), sync, the receiver and the console, "
        "so the actuation path (ingest, rules) and then the analytics keep the CPU when the gateway is overloaded "
        "(0: off)",
    )
    up.add_argument(
        "--analytics-nice",
        type=int,
        default=SuiteConfig.analytics_nice,
        help="niceness added to features and inference (below --background-nice: a burst turns into scores before "
        "it is stored and uploaded)",
    )
    up.add_argument(
        "--actuation-slice-us",
        type=int,
        default=100,
        help="EEVDF slice of nats-server, ingest and rules in microseconds (Linux 6.12+): woken by "
        "a message they preempt the background services instead of waiting out their slice (0: the kernel's)",
    )
    up.add_argument(
        "--actuation-rt-priority",
        type=int,
        default=SuiteConfig.actuation_rt_priority,
        choices=range(0, 99),
        metavar="0-98",
        help="SCHED_FIFO priority of nats-server, ingest and rules one above it, where permitted (root, "
        "CAP_SYS_NICE or RLIMIT_RTPRIO; else the slice): woken by a message they run before any other work "
        "(0: no real-time priority)",
    )
    up.add_argument(
        "--no-background-batch",
        action="store_true",
        help="run the background services as normal tasks, not SCHED_BATCH (their wakeups may then preempt)",
    )
    up.add_argument(
        "--background-cpus",
        default="auto",
        help="CPUs the background services are confined to: auto (the upper half of the CPUs when there are two or "
        "more), all (not confined) or a list such as 2-3; the actuation path may run on every CPU (default auto)",
    )
    up.add_argument(
        "--background-apart",
        action="store_true",
        help="run every service in a process of its own (default: core, sync and the console in one process, "
        "features and inference in another)",
    )
    st = sub.add_parser("status", help="health, rates and backlog of the running suite")
    st.add_argument("--data-dir")
    st.add_argument("--json", action="store_true")
    st.add_argument(
        "--window",
        type=float,
        default=WINDOW_S,
        help=f"seconds the rates and hop p99s cover (default {WINDOW_S:g}; at least 10)",
    )
    opcuacmd.add_parser(sub)
    modelcmd.add_parser(sub)
    secretscmd.add_parser(sub)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s edgewatch %(levelname)s %(message)s")
    if args.cmd == "secrets":
        return secretscmd.run(args)
    data_dir = resolve_data_dir(args.data_dir or None)
    if args.cmd == "model":
        return modelcmd.run(args, data_dir)
    if args.cmd == "opcua":
        logging.getLogger("asyncua").setLevel(logging.ERROR)
        return opcuacmd.run(args, data_dir)
    if args.cmd == "up":
        try:
            ports = Ports.parse(args.ports)
        except ValueError as e:
            ap.error(str(e))
        try:
            background_cpus(args.background_cpus)
        except ValueError as e:
            ap.error(f"--background-cpus: {e}")
        cfg = SuiteConfig(
            data_dir,
            ports,
            demo=args.demo,
            auth=not args.no_auth,
            log_level=args.log_level,
            mqtt=args.mqtt,
            mqtt_host=args.mqtt_host,
            background_nice=args.background_nice,
            analytics_nice=args.analytics_nice,
            actuation_slice_us=args.actuation_slice_us,
            actuation_rt_priority=args.actuation_rt_priority,
            background_batch=not args.no_background_batch,
            background_cpus=args.background_cpus,
            group_background=not args.background_apart,
        )
        return asyncio.run(run_up(cfg))
    ports_file = data_dir / "run" / "ports.json"
    ports = Ports(**json.loads(ports_file.read_text())) if ports_file.exists() else Ports()
    status = collect_status(ports, ScrapeLog(data_dir / "run" / "scrapes.json"), window=max(args.window, 10.0))
    print(json.dumps(status, indent=1) if args.json else format_status(status, data_dir / "run" / "state.json"))
    return 0 if all(s["up"] for s in status["services"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
