"""Serving an app with uvicorn while ServiceHost, not uvicorn, owns SIGTERM/SIGINT; checked at import.

``uvicorn.Server.serve()`` installs its own SIGINT/SIGTERM handlers while it serves and re-raises a captured
signal afterwards. ServiceHost owns those signals (it stops the HTTP servers, then its steps, then drains the
bus), so :func:`serve` runs the sequence ``serve()`` wraps, on uvicorn's public pieces: ``Config.load()``, the
config's ``lifespan_class``, ``Server.startup(sockets)``, ``Server.main_loop()`` (until ``should_exit``), then
``Server.shutdown(sockets)`` (graceful: open connections and tasks get ``timeout_graceful_shutdown``). That is
uvicorn 0.55's ``Server._serve``; uvicorn is pinned to the tested minor series in ``libs/common/pyproject.toml``
and :func:`check_hooks` runs at import, failing with the installed version and each missing piece.
"""

from __future__ import annotations

import inspect
import logging
import os
import socket
from importlib.metadata import version
from typing import Any

import uvicorn

__all__ = ["TESTED_VERSION", "check_hooks", "serve"]

TESTED_VERSION = "0.55.0"
"""The uvicorn version :func:`serve` mirrors (the pin allows its patch releases)."""

log = logging.getLogger("uvicorn.error")


def _takes_sockets(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) and "sockets" in inspect.signature(fn).parameters


def _problems(server_cls: type[Any], config_cls: type[Any]) -> list[str]:
    found: list[str] = []
    for name in ("startup", "shutdown"):
        if not _takes_sockets(getattr(server_cls, name, None)):
            found.append(f"{server_cls.__name__}.{name}(sockets=...) is not a coroutine function")
    if not inspect.iscoroutinefunction(getattr(server_cls, "main_loop", None)):
        found.append(f"{server_cls.__name__}.main_loop() is not a coroutine function")

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never called
        pass

    # h11, no websockets, no lifespan: load() then imports nothing a served app would not
    config = config_cls(app, http="h11", ws="none", lifespan="off", interface="asgi3", log_config=None)
    if not callable(getattr(config, "load", None)) or getattr(config, "loaded", None) is not False:
        found.append(f"{config_cls.__name__} has no load() with a loaded flag")
    else:
        config.load()
        if not callable(getattr(config, "lifespan_class", None)):
            found.append(f"{config_cls.__name__}.load() sets no lifespan_class")
    server = server_cls(config)
    for flag in ("should_exit", "started"):
        if getattr(server, flag, None) is not False:
            found.append(f"{server_cls.__name__}().{flag} is not a False flag")
    return found


def check_hooks(server_cls: type[Any] = uvicorn.Server, config_cls: type[Any] = uvicorn.Config) -> None:
    """Verify the uvicorn pieces :func:`serve` runs (the defaults are the installed uvicorn's).

    Raises:
        ImportError: a piece is missing or changed shape; the message names the installed and tested versions.
    """
    found = _problems(server_cls, config_cls)
    if found:
        raise ImportError(
            f"uvicorn {version('uvicorn')} (edgewatch is tested with {TESTED_VERSION}) lacks what "
            f"edgewatch.common.service.uvicornadapter.serve runs: {'; '.join(found)}"
        )


check_hooks()


async def serve(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
    """``server.serve(sockets)`` without touching signal handlers; stop it with ``server.should_exit = True``."""
    config = server.config
    if not config.loaded:
        config.load()
    server.lifespan = config.lifespan_class(config)
    log.info("Started server process [%d]", os.getpid())
    await server.startup(sockets=sockets)
    if not server.should_exit:
        await server.main_loop()
    if server.started:
        await server.shutdown(sockets=sockets)
        log.info("Finished server process [%d]", os.getpid())
