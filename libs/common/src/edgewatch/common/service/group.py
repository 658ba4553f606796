"""``python -m edgewatch.common.service.group --name NAME edgewatch.<svc> ...``: several services in one process.

Each service is what ``python -m edgewatch.<svc>`` runs (its ``__main__``'s ``ENTRY``): its own settings, bus
connection and NATS user, metrics registry, REST ports, parse workers and lifespan, loaded from the process's
environment plus its own variables from :data:`ENV_VAR`. They share the interpreter, the imported libraries and the
event loop (:func:`~edgewatch.common.service.host.serve_hosts`): a Python service's imports and apps cost 55-60 MB
RSS before it does any work, most of which one process pays once. What they give up: a crash or a kill -9 stops
all of them (a supervisor restarts them together), and they share one GIL. ``edgewatch up`` runs sync, features,
inference and the console this way (``SuiteConfig.group_background``); compose and Helm run each in a container of
its own.

Log lines name the service they come from (``service``); ``--name`` names the process (its logs, memtrace).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from edgewatch.common.service.host import ServiceEntry, ServiceHost, serve_hosts
from edgewatch.common.service.logging import configure_logging
from edgewatch.common.service.malloctrim import start_from_env as start_malloc_trim
from edgewatch.common.service.memtrace import start_from_env as start_memtrace

__all__ = ["ENV_VAR", "load_hosts", "main"]

ENV_VAR = "EDGEWATCH_GROUP_ENV"
"""JSON object: package (``edgewatch.sync``) -> that service's own environment variables."""


def _entry(package: str) -> ServiceEntry[Any]:
    entry = getattr(importlib.import_module(f"{package}.__main__"), "ENTRY", None)
    if not isinstance(entry, ServiceEntry):
        raise SystemExit(f"{package}.__main__ has no ENTRY (ServiceEntry)")
    return entry


def load_hosts(name: str, packages: Sequence[str], base: Mapping[str, str]) -> list[ServiceHost]:
    """Build (not start) the hosts of ``packages``, each from ``base`` plus its own variables in :data:`ENV_VAR`;
    logs are configured at the first service's level."""
    own = json.loads(base.get(ENV_VAR, "{}"))
    entries = [_entry(p) for p in packages]
    envs = [{**base, **own.get(p, {})} for p in packages]
    settings = [e.settings(env.get("EDGEWATCH_CONFIG_FILE", ""), env) for e, env in zip(entries, envs, strict=True)]
    configure_logging(name, settings[0].writable.log_level)
    return [e.host(s, env) for e, s, env in zip(entries, settings, envs, strict=True)]


def main(argv: list[str] | None = None) -> None:
    """Run the named services in this process until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m edgewatch.common.service.group")
    parser.add_argument("--name", required=True, help="the process's name (its log and memtrace name)")
    parser.add_argument("packages", nargs="+", help="service packages, e.g. edgewatch.sync edgewatch.features")
    args = parser.parse_args(argv)
    hosts = load_hosts(args.name, args.packages, os.environ)
    start_memtrace(args.name)
    start_malloc_trim(args.name)
    asyncio.run(serve_hosts(hosts))


if __name__ == "__main__":
    main()
