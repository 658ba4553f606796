"""A JetStream KV bucket with an in-memory index kept coherent by a KV watch (writes go to KV first).

The index and its watch are :class:`edgewatch.common.service.kvreplica.KvReplica` (rules keeps a read-only one
of the same buckets); this adds the writes core-metadata makes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from pydantic import BaseModel

from edgewatch.common.contracts.errors import ConflictError
from edgewatch.common.service.kvreplica import KvReplica, kv_key, validate_json_or_none
from edgewatch.core.buserrors import unavailable_on_bus_errors

__all__ = ["EntityStore", "kv_key", "validate_json_or_none"]

M = TypeVar("M", bound=BaseModel)


class EntityStore(KvReplica[M]):
    """Entities of one kind keyed by name; ``items`` mirrors the bucket (loaded at start, then watched)."""

    async def start(self) -> None:
        """Ensure the bucket (idempotent), load every entity and keep watching for other writers."""
        js = self.bus.js
        try:
            self._kv = await js.key_value(self.bucket)
        except Exception:
            self._kv = await js.create_key_value(bucket=self.bucket, history=1, description=f"edgewatch {self.kind}")
        self._task = asyncio.create_task(self._watch(), name=f"kv-watch-{self.bucket}")
        await asyncio.wait_for(self._loaded.wait(), 30)

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
