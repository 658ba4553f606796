"""Batch encoding off the event loop: packed event batches are encoded in a worker process (the codec is CPU)."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from edgewatch.syncwire.batch import BatchHeader, DataClass, RecordRow, encode_rows

__all__ = ["BatchEncoder"]


def _exit_with(parent: int) -> None:
    """Worker initializer: exit as soon as the service process is gone (also after a kill -9)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class BatchEncoder:
    """Encodes batches; event batches with the columnar codec run in one spawned worker process.

    The outbox encodes batch N+1 while batch N is on the wire; in a worker process that encoding runs on another
    core instead of holding the event loop (which pulls, uploads and acks) for ~15-30 µs per event. Other
    batches (no codec: zstd of opaque payloads only) are encoded in place. A worker that dies is replaced.

    The worker costs memory (about 55 MB RSS, plus multiprocessing's resource tracker): event batches under
    ``worker_min_records`` (a few milliseconds of codec) are encoded in place, so a gateway whose events arrive a
    few per second never starts it, and a worker unused for ``idle_close_s`` is stopped (a backlog starts it again).
    """

    def __init__(self, level: int, pack: bool, worker_min_records: int = 256, idle_close_s: float = 120.0) -> None:
        self.level = level
        self.pack = pack
        self.worker_min_records = worker_min_records
        self.idle_close_s = idle_close_s
        self._pool: ProcessPoolExecutor | None = None
        self._last_used = 0.0
        self._paused_until = 0.0

    def packing(self, cls: DataClass) -> bool:
        """Whether batches of ``cls`` are encoded with the event codec now."""
        return self.pack and cls is DataClass.EVENT and time.monotonic() >= self._paused_until

    def pause_packing(self, seconds: float) -> None:
        """Encode event batches unpacked for ``seconds`` (the receiver refused a pack: it may be older)."""
        self._paused_until = time.monotonic() + seconds

    def _worker(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_exit_with, initargs=(os.getpid(),)
            )
        return self._pool

    async def encode(self, header: BatchHeader, records: list[RecordRow]) -> bytes:
        """msgpack + zstd (+ event codec) of one batch (:func:`~edgewatch.syncwire.batch.encode_rows`)."""
        now = time.monotonic()
        if self._pool is not None and now - self._last_used > self.idle_close_s:
            self.close()  # idle: give its memory back
        if not self.packing(header.data_class):
            return encode_rows(header, records, self.level, pack=False)
        if len(records) < self.worker_min_records:
            return encode_rows(header, records, self.level, pack=True)
        self._last_used = now
        job = functools.partial(encode_rows, header, records, self.level, pack=True)
        try:
            body: bytes = await asyncio.get_running_loop().run_in_executor(self._worker(), job)
        except BrokenProcessPool:
            self.close()
            body = encode_rows(header, records, self.level, pack=True)  # this batch in place; next time a new worker
        return body

    def close(self) -> None:
        """Stop the worker (idempotent; a later encode starts a new one)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
