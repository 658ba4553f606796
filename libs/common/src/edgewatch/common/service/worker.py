"""Parse workers: CPU-heavy parsing and checks run in spawned processes, each call with a time and memory budget.

A parse in a thread would still hold the GIL, so the event loop would stall with it: the work runs in a small
pool of processes instead, and the loop only waits on a pipe. A call that runs past ``Service.ParseTimeout``
has its worker killed (and later replaced) and is refused with 413 ``ParseTimeout``; a worker's address space
is capped at its size after imports plus ``Service.ParseMemoryLimit`` MB, so an input that needs more fails with
MemoryError in the worker, refused with 413 ``ParseMemoryLimit``. Workers start on first use and exit on their
own when the service process is gone (also after a kill -9).

Functions run in a worker must be importable module-level functions; their arguments and results are pickled.
EdgeX errors raised in a worker reach the caller as the same class with the same fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from edgewatch.common.contracts.errors import EdgeXError, ErrorKind, ServiceUnavailableError
from edgewatch.common.contracts.limits import SizeLimitError
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSection

__all__ = ["INLINE_BYTES", "ParseWorkers", "WorkerDiedError"]

log = logging.getLogger(__name__)

T = TypeVar("T")
MB = 1024 * 1024
INLINE_BYTES = 64 * 1024
"""Inputs up to this size are parsed on the event loop (a millisecond or two); larger ones go to a worker."""
_START_TIMEOUT = 120.0  # a worker's imports on a slow gateway; not part of any call's budget


class WorkerDiedError(EdgeXError):
    """500: a parse worker exited during a call (a crash or the kernel's OOM killer); it is replaced."""

    kind = ErrorKind.SERVER


def _exit_with_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _cap_memory(extra_mb: int) -> None:
    if extra_mb <= 0:
        return
    import resource

    with open("/proc/self/status", encoding="ascii") as f:
        size_kb = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    cap = size_kb * 1024 + extra_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _portable(e: BaseException) -> tuple[str, Any]:
    """An exception as something the parent can rebuild (EdgeX errors keep their class and fields).

    The traceback is dropped: its frames would keep the failed call's data (a refused bomb's buffers) alive
    into the next call.
    """
    e.__traceback__ = None
    e.__context__ = e.__cause__ = None
    if isinstance(e, EdgeXError):
        return "edgex", (type(e), e.message, dict(vars(e)))
    if isinstance(e, MemoryError):
        return "memory", None
    try:
        pickle.dumps(e)
        return "exc", e
    except Exception:
        return "exc", RuntimeError(f"{type(e).__name__}: {e}")


def _serve(conn: Connection, parent: int, preload: tuple[str, ...], extra_mb: int) -> None:
    """Worker main: import, report ready, then run jobs until the pipe closes."""
    _exit_with_parent(parent)
    for name in preload:
        importlib.import_module(name)
    _cap_memory(extra_mb)
    conn.send(("ready", None))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as e:  # the job could not be unpickled
            conn.send(_portable(e))
            continue
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except BaseException as e:
            reply = _portable(e)
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as e:
            conn.send(("exc", RuntimeError(f"result could not be sent back: {type(e).__name__}: {e}")))
        del fn, args, reply  # nothing of this call stays alive while the worker waits for the next


class _Proc:
    """One worker process and the parent's end of its pipe (blocking calls run in a thread)."""

    def __init__(self, ctx: Any, preload: tuple[str, ...], extra_mb: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(
            target=_serve, args=(child, os.getpid(), preload, extra_mb), name="edgewatch-parse-worker", daemon=True
        )
        self.proc.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        if not self.ready:
            if not self.conn.poll(_START_TIMEOUT):
                raise EOFError("parse worker did not start")
            self.conn.recv()
            self.ready = True

    def call(self, job: tuple[Callable[..., Any], tuple[Any, ...]]) -> tuple[str, Any]:
        self.conn.send(job)
        reply: tuple[str, Any] = self.conn.recv()
        return reply

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.join(2)
        with contextlib.suppress(Exception):
            self.conn.close()


class ParseWorkers:
    """Up to ``Service.ParseWorkers`` processes; ``run`` waits for a free one, with at most ``max_pending`` waiting."""

    def __init__(
        self,
        service: Callable[[], ServiceSection],
        metrics: ServiceMetrics,
        *,
        preload: tuple[str, ...] = (),
        max_pending: int = 16,
    ) -> None:
        self.service = service
        self.preload = preload
        self.max_pending = max_pending
        self._ctx = multiprocessing.get_context("spawn")
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Proc] = []
        self._waiting = 0
        self.restarts = metrics.counter(
            "edgewatch_parse_worker_restarts", "Parse workers killed and replaced", ("reason",)
        )

    async def run(self, fn: Callable[..., T], *args: Any, what: str = "input") -> T:
        """``fn(*args)`` in a worker within ``Service.ParseTimeout`` seconds.

        Raises:
            SizeLimitError: past the time budget (413 ``ParseTimeout``) or out of worker memory (413
                ``ParseMemoryLimit``); the worker is replaced.
            ServiceUnavailableError: ``max_pending`` calls are already waiting (503).
            WorkerDiedError: the worker exited during the call (500).
            EdgeXError: what ``fn`` raised, same class and fields; other exceptions of ``fn`` as they were.
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.service().parse_workers)
        if self._slots.locked() and self._waiting >= self.max_pending:
            raise ServiceUnavailableError(f"{what}: {self._waiting} inputs are already waiting for a parse worker")
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            result: T = self._unwrap(await self._call(fn, args, what), what)
            return result
        finally:
            self._slots.release()

    async def _call(self, fn: Callable[..., Any], args: tuple[Any, ...], what: str) -> tuple[str, Any]:
        proc = self._idle.pop() if self._idle else None
        reply: tuple[str, Any] | None = None
        try:
            if proc is None:
                proc = await asyncio.to_thread(_Proc, self._ctx, self.preload, self.service().parse_memory_limit)
            await asyncio.to_thread(proc.wait_ready)
            budget = self.service().parse_timeout
            try:
                reply = await asyncio.wait_for(asyncio.to_thread(proc.call, (fn, args)), budget)
            except TimeoutError:
                raise SizeLimitError(
                    f"{what}: parsing took longer than Service.ParseTimeout ({budget:g} s)",
                    limit="ParseTimeout",
                    field=what,
                ) from None
            except (EOFError, OSError) as e:
                raise WorkerDiedError(f"{what}: the parse worker exited ({proc.proc.exitcode})") from e
            return reply
        finally:
            if proc is not None:
                if reply is None or reply[0] == "memory":
                    proc.kill()  # timed out, died, cancelled or exhausted: a fresh worker takes the next call
                    self.restarts.labels("memory" if reply else "timeout").inc()
                else:
                    self._idle.append(proc)

    def _unwrap(self, reply: tuple[str, Any], what: str) -> Any:
        tag, payload = reply
        if tag == "ok":
            return payload
        if tag == "memory":
            limit = self.service().parse_memory_limit
            raise SizeLimitError(
                f"{what}: needs more memory than Service.ParseMemoryLimit ({limit} MB)",
                limit="ParseMemoryLimit",
                field=what,
            )
        if tag == "edgex":
            cls, message, fields = payload
            err = cls.__new__(cls)
            Exception.__init__(err, message)
            err.__dict__.update(fields)
            raise err
        raise payload

    async def close(self) -> None:
        """Stop every idle worker (busy ones are killed when their call ends; a later ``run`` starts new ones)."""
        procs, self._idle = self._idle, []
        for proc in procs:
            await asyncio.to_thread(proc.kill)
