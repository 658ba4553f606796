"""A read-only replica of a JetStream KV bucket of entities: an in-memory index kept coherent by a KV watch.

core's metadata stores (core-metadata, core-command) build on it and add writes; rules keeps a replica of the
metadata buckets to check a command the way core-command does without asking anyone (:meth:`KvReplica.follow`).
A change written by another process is in ``items`` within the watch's delivery time (the server pushes it).

A watched value larger than ``INLINE_BYTES`` (a large profile) is decoded and validated in a parse worker, when
there are workers, so applying another writer's change never holds the event loop for more than a few
milliseconds (core-command's loop forwards commands while core-metadata uploads profiles)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from nats.js.errors import BucketNotFoundError
from nats.js.errors import NotFoundError as JsNotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import BaseModel, ValidationError

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts.errors import EdgeXError, ErrorKind, NotFoundError
from edgewatch.common.service.worker import INLINE_BYTES, ParseWorkers

__all__ = ["KvReplica", "kv_key", "validate_json_or_none"]

log = logging.getLogger(__name__)

_YIELD_EVERY = 32
"""Watch entries applied between yields to the event loop (a queued entry is taken without suspending)."""

M = TypeVar("M", bound=BaseModel)


def validate_json_or_none(model: type[M], value: bytes) -> M | None:
    """``value`` as ``model``, or None when it is not one (run in a parse worker: a ValidationError does not pickle)."""
    try:
        return model.model_validate_json(value)
    except ValidationError:
        return None


def kv_key(name: str) -> str:
    """KV keys allow only ``[-/_=.a-zA-Z0-9]``; EdgeX names allow anything, so keys are base64url of the name."""
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=") or "_"


class KvReplica(Generic[M]):
    """Entities of one kind keyed by name; ``items`` mirrors the bucket (loaded, then watched). Reads only."""

    def __init__(
        self,
        bus: NatsBus,
        bucket: str,
        model: type[M],
        kind: str,
        name_of: Callable[[M], str],
        workers: ParseWorkers | None = None,
        inline_bytes: int = INLINE_BYTES,
    ) -> None:
        self.bus = bus
        self.workers = workers
        self.inline_bytes = inline_bytes
        self.bucket = bucket
        self.model = model
        self.kind = kind
        self.name_of = name_of
        self.items: dict[str, M] = {}
        self._raw: dict[str, bytes] = {}  # KV key -> the value last applied or written (skips re-parsing echoes)
        self._kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None
        self._loaded = asyncio.Event()
        self._rewatch = asyncio.Event()  # set on a reconnect: the watch starts afresh at once
        self._stopped = False
        self.on_change: list[Callable[[str, M | None], None]] = []

    def follow(self, retry: float = 1.0) -> None:
        """Start following the bucket in the background without creating it: until it exists (core not started
        yet) and its contents are loaded, :attr:`loaded` stays False."""
        if self._task is None:
            self._task = asyncio.create_task(self._open_and_watch(retry), name=f"kv-follow-{self.bucket}")

    async def _open_and_watch(self, retry: float) -> None:
        while self._kv is None and not self._stopped:
            try:
                self._kv = await self.bus.js.key_value(self.bucket)
            except asyncio.CancelledError:
                raise
            except (BucketNotFoundError, JsNotFoundError):
                log.info("KV bucket %s does not exist yet; waiting for it", self.bucket)
                await asyncio.sleep(retry)
            except Exception as e:  # bus down, JetStream unavailable, no permission: keep trying
                log.warning("KV bucket %s not readable (%s); retrying", self.bucket, type(e).__name__)
                await asyncio.sleep(retry)
        if not self._stopped:
            await self._watch()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop watching (a JetStream API request in flight may swallow a cancellation: it is repeated, and
        ``grace`` bounds the wait)."""
        self._stopped = True
        await cancel_and_wait([self._task], limit=grace)

    async def _watch(self) -> None:
        """Follow the bucket; if the watch fails (bus outage), start a fresh one and re-sync from its replay.

        After a reconnect the watch is restarted at once, and :attr:`loaded` is False until the fresh watch has
        replayed the bucket: nats-py's ordered consumer otherwise notices a restarted server only after its missed
        heartbeats (about 15 s here), and for that long a change (a device LOCKED) would not reach this replica,
        which core-command and rules check every command against.
        """
        self.bus.reconnect_hooks.append(self._on_reconnect)
        delay = 0.2
        try:
            while True:
                self._rewatch.clear()
                watch = asyncio.create_task(self._watch_once(), name=f"kv-watch-once-{self.bucket}")
                rewatch = asyncio.create_task(self._rewatch.wait())
                try:
                    await asyncio.wait([watch, rewatch], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    rewatch.cancel()
                    if not watch.done():
                        watch.cancel()
                        await asyncio.wait([watch], timeout=5.0)
                if self._rewatch.is_set():
                    delay = 0.2
                    continue
                try:
                    watch.result()
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    log.warning("KV watch of %s failed (%s); re-watching", self.bucket, type(e).__name__)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)
        finally:
            with contextlib.suppress(ValueError):
                self.bus.reconnect_hooks.remove(self._on_reconnect)

    def _on_reconnect(self) -> None:
        self._loaded.clear()
        self._rewatch.set()

    async def _watch_once(self) -> None:
        assert self._kv is not None
        watcher = await self._kv.watchall()
        replayed: set[str] | None = set()
        seen = 0
        try:
            async for entry in watcher:
                seen += 1
                if seen % _YIELD_EVERY == 0:  # a burst of writes queues entries: let commands and pings run
                    await asyncio.sleep(0)
                if entry is None:
                    if replayed is not None:
                        # Names the bucket no longer holds at all (not even as delete markers) are dropped.
                        for name in [n for n in self.items if kv_key(n) not in replayed]:
                            self.items.pop(name, None)
                            self._raw.pop(kv_key(name), None)
                            self._notify(name, None)
                    replayed = None
                    self._loaded.set()
                    continue
                if replayed is not None:
                    replayed.add(entry.key)
                value = entry.value
                if value and entry.operation not in (KV_DEL, KV_PURGE) and self._raw.get(entry.key) != value:
                    ent = await self._decode(entry.key, value)
                    if self._raw.get(entry.key) == value:
                        continue  # this replica wrote the same value while it was decoded
                    self._apply_value(entry.key, value, ent)
                else:
                    self._apply_entry(entry.key, value, entry.operation)
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]

    def _apply_entry(self, key: str, value: bytes | None, op: str | None) -> None:
        if op in (KV_DEL, KV_PURGE) or not value:
            self._raw.pop(key, None)
            gone = [n for n in self.items if kv_key(n) == key]
            for n in gone:
                self.items.pop(n, None)
                self._notify(n, None)
            return
        if self._raw.get(key) == value:
            return  # this replica's own write coming back, or a re-delivery: nothing to parse (large profiles cost)
        self._apply_value(key, value, validate_json_or_none(self.model, value))

    async def _decode(self, key: str, value: bytes) -> M | None:
        """The entity in ``value`` (None if unreadable): a large one is decoded in a parse worker.

        A worker that cannot take it (busy queue, budget, crash) leaves it to the loop: the index must follow the
        bucket, and the value was validated by the replica that wrote it.
        """
        if self.workers is None or len(value) <= self.inline_bytes:
            return validate_json_or_none(self.model, value)
        try:
            return await self.workers.run(validate_json_or_none, self.model, bytes(value), what=self.kind)
        except EdgeXError as e:
            log.warning("%s %s decoded on the loop: parse worker refused it (%s)", self.kind, key, e.message)
            return validate_json_or_none(self.model, value)

    def _apply_value(self, key: str, value: bytes, ent: M | None) -> None:
        if ent is None:
            log.error("unreadable %s in KV bucket %s key %s; ignored", self.kind, self.bucket, key)
            return
        self._raw[key] = value
        name = self.name_of(ent)
        self.items[name] = ent
        self._notify(name, ent)

    def _notify(self, name: str, ent: M | None) -> None:
        for cb in self.on_change:
            try:
                cb(name, ent)
            except Exception:
                log.exception("metadata change callback failed")

    @property
    def loaded(self) -> bool:
        """True once the initial contents of the bucket are in ``items``."""
        return self._loaded.is_set()

    @property
    def kv(self) -> KeyValue:
        """The bucket (after start)."""
        if self._kv is None:
            raise EdgeXError(f"{self.kind} store is not started", kind=ErrorKind.SERVICE_UNAVAILABLE)
        return self._kv

    def get(self, name: str) -> M:
        """The entity called ``name``.

        Raises:
            NotFoundError: none.
        """
        try:
            return self.items[name]
        except KeyError:
            raise NotFoundError(f"{self.kind} {name!r} does not exist", field="name") from None

    def find(self, name: str) -> M | None:
        """The entity called ``name``, or None."""
        return self.items.get(name)

    def by_id(self, id_: str) -> M | None:
        """The entity whose ``id`` is ``id_``, or None."""
        return next((e for e in self.items.values() if getattr(e, "id", None) == id_), None)
