"""A JetStream KV bucket with an in-memory index kept coherent by a KV watch (writes go to KV first).

A watched value larger than ``INLINE_BYTES`` (a large profile) is decoded and validated in a parse worker, so
applying another writer's change never holds the event loop for more than a few milliseconds (core-command's
loop forwards commands while core-metadata uploads profiles)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import BaseModel, ValidationError

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts.errors import ConflictError, EdgeXError, ErrorKind, NotFoundError
from edgewatch.common.service.worker import INLINE_BYTES, ParseWorkers
from edgewatch.core.buserrors import unavailable_on_bus_errors

__all__ = ["EntityStore", "kv_key"]

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


class EntityStore(Generic[M]):
    """Entities of one kind keyed by name; ``items`` mirrors the bucket (loaded at start, then watched)."""

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
        self.on_change: list[Callable[[str, M | None], None]] = []

    async def start(self) -> None:
        """Ensure the bucket (idempotent), load every entity and keep watching for other writers."""
        js = self.bus.js
        try:
            self._kv = await js.key_value(self.bucket)
        except Exception:
            self._kv = await js.create_key_value(bucket=self.bucket, history=1, description=f"edgewatch {self.kind}")
        self._task = asyncio.create_task(self._watch(), name=f"kv-watch-{self.bucket}")
        await asyncio.wait_for(self._loaded.wait(), 30)

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _watch(self) -> None:
        """Follow the bucket; if the watch fails (bus outage), start a fresh one and re-sync from its replay."""
        delay = 0.2
        while True:
            try:
                await self._watch_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("KV watch of %s failed (%s); re-watching", self.bucket, type(e).__name__)
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)

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

    async def create(self, ent: M) -> None:
        """Add a new entity; fails if the name exists (also when another replica added it first).

        Raises:
            ConflictError: duplicate name.
        """
        name = self.name_of(ent)
        if name in self.items:
            raise ConflictError(f"{self.kind} {name!r} already exists", field="name")
        try:
            data = self._encode(ent)
            with unavailable_on_bus_errors(f"adding {self.kind} {name!r}"):
                await self.kv.create(kv_key(name), data)
        except KeyWrongLastSequenceError:
            raise ConflictError(f"{self.kind} {name!r} already exists", field="name") from None
        self._raw[kv_key(name)] = data
        self._set(name, ent)

    async def put(self, ent: M) -> None:
        """Write (add or replace) an entity."""
        name = self.name_of(ent)
        data = self._encode(ent)
        with unavailable_on_bus_errors(f"writing {self.kind} {name!r}"):
            await self.kv.put(kv_key(name), data)
        self._raw[kv_key(name)] = data
        self._set(name, ent)

    async def delete(self, name: str) -> M:
        """Remove an entity and return it.

        Raises:
            NotFoundError: none.
        """
        ent = self.get(name)
        with unavailable_on_bus_errors(f"deleting {self.kind} {name!r}"), contextlib.suppress(KeyNotFoundError):
            await self.kv.delete(kv_key(name))
        self._raw.pop(kv_key(name), None)
        if self.items.pop(name, None) is not None:
            self._notify(name, None)
        return ent

    def _set(self, name: str, ent: M) -> None:
        if self.items.get(name) != ent:
            self.items[name] = ent
            self._notify(name, ent)

    @staticmethod
    def _encode(ent: BaseModel) -> bytes:
        return ent.model_dump_json(by_alias=True).encode()
