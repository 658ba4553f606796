"""The record store interface (SQLite by default; PostgreSQL/TimescaleDB can implement the same Protocol)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from edgewatch.syncwire.batch import BatchAck, BatchHeader, DataClass, PackedEvents, RecordRow

__all__ = ["GatewayProgress", "RecordQuery", "RecordStore", "StoredRecord"]


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored in the cloud; ``id`` increases in commit order."""

    id: int
    key: str
    gateway: str
    cls: DataClass
    device: str
    seq: int
    subject: str
    stream: str
    stream_seq: int
    ts_ns: int
    origin_ns: int
    received_ns: int
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class RecordQuery:
    """Filter for queries; ``newest_first`` orders by origin descending (EdgeX), else by id ascending."""

    cls: DataClass
    device: str = ""
    after_id: int = 0
    start_ns: int = 0
    end_ns: int = 0
    newest_first: bool = True


@dataclass(frozen=True)
class GatewayProgress:
    """What the cloud holds per gateway and class."""

    gateway: str
    cls: DataClass
    records: int
    last_stream_seq: int
    last_received_ns: int


class RecordStore(Protocol):
    """Durable, deduplicating record storage. ``ingest`` returns only after the batch is committed."""

    async def open(self) -> None:
        """Open/create the store."""

    async def close(self) -> None:
        """Close it."""

    async def ingest(
        self, batch: BatchHeader, records: list[RecordRow], received_ns: int, packed: PackedEvents | None = None
    ) -> BatchAck:
        """Store the records not stored yet (by idempotency key), atomically, durably.

        ``packed``: the batch's event pack; the rows it names have an empty payload and get theirs from the
        pack, which is committed in the same transaction and unpacked when the records are read.
        """

    async def query(self, q: RecordQuery, offset: int, limit: int) -> list[StoredRecord]:
        """Records matching ``q``, paged."""

    async def count(self, q: RecordQuery) -> int:
        """How many records match ``q``."""

    async def progress(self) -> list[GatewayProgress]:
        """Per gateway and class totals."""

    async def prune(self, cutoff_ns: int) -> int:
        """Delete what was received before ``cutoff_ns`` (its dedup keys too); return the records deleted.

        Ids already handed out are never reused, so cursors stay valid.
        """
