"""ServiceHost: one service's runtime (settings, metrics, bus, lifespan, REST apps) and its process entry.

``build_app(settings)`` in every service returns a ServiceHost. Tests enter it with ``async with host:`` and
call ``host.app`` through httpx's ASGITransport; ``python -m edgewatch.<svc>`` runs its ``ENTRY``
(:class:`ServiceEntry`), which serves every app with uvicorn, hot-reloads the Writable section and drains NATS on
SIGTERM. :func:`serve_hosts` serves several hosts on one event loop (``edgewatch.common.service.group``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import logging
import os
import signal
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import uvicorn
from fastapi import FastAPI

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.service.http import install_common
from edgewatch.common.service.lifespan import Lifespan
from edgewatch.common.service.logging import configure_logging, service_name, set_level
from edgewatch.common.service.looplag import LoopLagMonitor
from edgewatch.common.service.malloctrim import start_from_env as start_malloc_trim
from edgewatch.common.service.memtrace import start_from_env as start_memtrace
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSettings, WritableSection, load_settings
from edgewatch.common.service.uvicornadapter import serve as serve_http

__all__ = ["ServiceEntry", "ServiceHost", "WritableCallback", "res_dir", "run_service", "serve_hosts", "service_main"]

log = logging.getLogger(__name__)

VERSION = "0.1.0"
S = TypeVar("S", bound=ServiceSettings)
WritableCallback = Callable[[WritableSection, WritableSection], None]


class ServiceHost:
    """Everything one service runs; the bus connects first and drains last."""

    def __init__(self, name: str, settings: ServiceSettings, *, version: str = VERSION) -> None:
        self.name = name
        self.settings = settings
        self.version = version
        self.metrics = ServiceMetrics(name)
        self.bus = NatsBus(settings.message_bus, name, self.metrics)
        self.lifespan = Lifespan()
        self.lifespan.add("bus", self.bus.connect, self.bus.drain)
        self.apps: list[tuple[str, int, FastAPI]] = []
        self._writable_callbacks: list[WritableCallback] = [lambda _o, n: set_level(n.log_level)]
        self.health_checks: dict[str, Callable[[], Any]] = {"busConnected": lambda: self.bus.connected}
        self.env: Mapping[str, str] | None = None
        """The environment its settings were loaded from, and are reloaded from (None: the process's)."""

    def new_app(
        self,
        title: str,
        port: int,
        label: str = "",
        *,
        sdk_version: str | None = None,
        public: Callable[[str], bool] | None = None,
    ) -> FastAPI:
        """Create a FastAPI app with the common routes installed and register it to be served on ``port``.

        ``public(path)`` true exempts a path from the bearer token (the service guards it itself).
        """
        app = FastAPI(
            title=title,
            version=self.version,
            openapi_url="/api/v3/openapi.json",
            docs_url=None,
            redoc_url=None,
        )
        install_common(
            app,
            label or self.name,
            self.version,
            lambda: self.settings,
            self.metrics,
            self.health,
            sdk_version=sdk_version,
            public=public,
        )
        self.apps.append((label or self.name, port, app))
        return app

    @property
    def app(self) -> FastAPI:
        """The primary (first) app."""
        return self.apps[0][2]

    def health(self) -> dict[str, Any]:
        """Current health facts (``busConnected`` and service-specific checks)."""
        return {k: fn() for k, fn in self.health_checks.items()}

    def on_writable_change(self, cb: WritableCallback) -> None:
        """Register a callback for hot-reloaded Writable changes (old, new)."""
        self._writable_callbacks.append(cb)

    def apply_writable(self, new: WritableSection) -> None:
        """Swap in a new Writable section and notify callbacks."""
        old = self.settings.writable
        if new == old:
            return
        self.settings.writable = new
        for cb in self._writable_callbacks:
            try:
                cb(old, new)
            except Exception:
                log.exception("writable callback failed")
        log.info("writable settings reloaded")

    async def __aenter__(self) -> ServiceHost:
        await self.lifespan.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.lifespan.stop()

    async def watch_config(self, interval: float = 2.0) -> None:
        """Poll the config file and hot-apply its Writable section (other sections need a restart)."""
        path = self.settings.config_file
        if not path:
            return
        cls = type(self.settings)
        last = _mtime(path)
        while True:
            await asyncio.sleep(interval)
            now = _mtime(path)
            if now == last:
                continue
            last = now
            try:
                fresh = load_settings(cls, path, env=self.env)
            except Exception as e:
                log.error("config reload rejected", extra={"error": str(e)[:500]})
                continue
            self.apply_writable(fresh.writable)

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT: start steps, serve apps, then stop servers, steps and drain the bus."""
        await serve_hosts([self])

    def servers(self) -> list[uvicorn.Server]:
        """One uvicorn server per app (not started)."""
        out = []
        for _label, port, app in self.apps:
            cfg = uvicorn.Config(
                app,
                host=self.settings.service.host,
                port=port,
                log_config=None,
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=3,
                ssl_certfile=self.settings.service.tls_cert_file or None,
                ssl_keyfile=self.settings.service.tls_key_file or None,
            )
            out.append(uvicorn.Server(cfg))
        return out


async def serve_hosts(hosts: Sequence[ServiceHost]) -> None:
    """Run ``hosts`` on this loop until SIGTERM/SIGINT: start each one's steps in order, serve every app, then stop
    the servers and each host's steps (the bus drains last) in reverse order.

    Each host's work runs in a context of its own, so a log line names the service it came from
    (:data:`edgewatch.common.service.logging.service_name`): the tasks its steps, subscriptions and servers start
    inherit it.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    contexts = [_context_of(h) for h in hosts]

    def in_host(i: int, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.create_task(coro, context=contexts[i])

    started: list[ServiceHost] = []
    try:
        for i, host in enumerate(hosts):
            await in_host(i, host.lifespan.start())
            started.append(host)
    except BaseException:
        for host in reversed(started):
            with contextlib.suppress(Exception):
                await host.lifespan.stop()
        raise
    # Everything built at startup (modules, models, the app) lives as long as the process: out of the collector's
    # generations it no longer lengthens every gen-2 collection, a pause that stops the loop, commands included.
    gc.collect()
    gc.freeze()
    servers: list[uvicorn.Server] = []
    tasks: list[asyncio.Task[None]] = []
    helpers: list[asyncio.Task[None]] = []
    try:
        for i, host in enumerate(hosts):
            if host.settings.config_file:
                helpers.append(in_host(i, host.watch_config()))
            helpers.append(in_host(i, LoopLagMonitor(host.metrics).run()))
            for server in host.servers():
                servers.append(server)
                # without uvicorn's own signal capture: the host owns SIGTERM/SIGINT
                tasks.append(in_host(i, serve_http(server)))
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t is not waiter:
                exc = t.exception()
                raise exc if exc is not None else RuntimeError("an HTTP server exited unexpectedly")
    finally:
        log.info("shutting down")
        for h in helpers:
            h.cancel()
        for server in servers:
            server.should_exit = True
        for t in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(t, 5)
        for i in reversed(range(len(hosts))):
            await in_host(i, hosts[i].lifespan.stop())


def _context_of(host: ServiceHost) -> contextvars.Context:
    ctx = contextvars.copy_context()
    ctx.run(service_name.set, host.name)
    return ctx


def _find_res_file(path: Path) -> Path | None:
    """Locate a service's ``res/<file>``: next to the module, or in ``services/<svc>/res`` above ``src/``."""
    if path.exists():
        return path
    for parent in path.resolve().parents:
        if parent.name == "src":
            cand = parent.parent / "res" / path.name
            return cand if cand.exists() else None
    return None


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def res_dir(package_file: str) -> Path:
    """``services/<svc>/res`` for a module file under ``services/<svc>/src/edgewatch/<svc>/``."""
    for parent in Path(package_file).resolve().parents:
        if parent.name == "src":
            return parent.parent / "res"
    return Path(package_file).resolve().parent / "res"


@dataclass(frozen=True)
class ServiceEntry(Generic[S]):
    """How a service is started: ``ENTRY`` of every ``edgewatch.<svc>.__main__``."""

    name: str
    settings_cls: type[S]
    build: Callable[[S], ServiceHost]
    default_config: Path | None = None

    def settings(self, config: str = "", env: Mapping[str, str] | None = None) -> S:
        """Settings from ``config`` (else the service's packaged ``res/`` file, where there is one) and ``env``."""
        default = _find_res_file(self.default_config) if self.default_config else None
        return load_settings(self.settings_cls, config or (str(default) if default else None), env=env)

    def host(self, settings: S, env: Mapping[str, str] | None = None) -> ServiceHost:
        """The built host (not started), reloading its settings from ``env``."""
        host = self.build(settings)
        host.env = env
        return host

    def main(self, argv: list[str] | None = None) -> None:
        """``python -m edgewatch.<svc>``."""
        service_main(self.name, self.settings_cls, self.build, self.default_config, argv)


def service_main(
    name: str,
    settings_cls: type[S],
    build: Callable[[S], ServiceHost],
    default_config: Path | None = None,
    argv: list[str] | None = None,
) -> None:
    """The body of every ``__main__``: parse ``--config``, load settings, configure logs, serve."""
    parser = argparse.ArgumentParser(prog=f"python -m edgewatch.{name}")
    parser.add_argument(
        "-c",
        "--config",
        "--configFile",
        dest="config",
        default=os.environ.get("EDGEWATCH_CONFIG_FILE", ""),
        help="YAML settings file (EdgeX-style keys); env overrides still apply",
    )
    args = parser.parse_args(argv)
    entry = ServiceEntry(name, settings_cls, build, default_config)
    settings = entry.settings(args.config)
    configure_logging(name, settings.writable.log_level)
    start_memtrace(name)
    start_malloc_trim(name)
    run_service(entry.host(settings))


def run_service(host: ServiceHost) -> None:
    """Run a built service host until signalled."""
    asyncio.run(host.serve())
