"""SQLite record store: WAL, one writer thread, one reader thread, dedup by a unique idempotency key.

Packed event batches: the event pack is committed as one ``packed_blocks`` row in the same transaction as the
batch's record rows, which hold an empty payload and a reference (block, index); reads rebuild those payloads
from the pack (a small LRU of unpacked blocks), so every query sees the same bytes as if they had been stored.

Durability: every batch is one transaction committed before the receiver answers 2xx. With
``synchronous=FULL`` (the default) a commit is fsynced to the WAL, so an acknowledged batch survives a power
cut of the receiver's host; ``NORMAL`` is faster but a power cut may roll back the last commits after the
edge has already deleted them (never corruption, but loss), so it is only safe on a host with a battery-backed
or replicated disk.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from edgewatch.common.bus.eventpayload import unwrap_event
from edgewatch.receiver.sqliteprune import prune_before
from edgewatch.receiver.store import GatewayProgress, RecordQuery, StoredRecord
from edgewatch.syncwire.batch import BatchAck, BatchHeader, DataClass, PackedEvents, RecordRow, unpack_packed

__all__ = ["SqliteStore", "event_origin_ns"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  gateway TEXT NOT NULL,
  cls TEXT NOT NULL,
  device TEXT NOT NULL,
  seq INTEGER NOT NULL,
  subject TEXT NOT NULL,
  stream TEXT NOT NULL,
  stream_seq INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  origin_ns INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  payload BLOB NOT NULL,
  block INTEGER,
  block_idx INTEGER
);
CREATE INDEX IF NOT EXISTS records_cls_device ON records (cls, device, id);
CREATE INDEX IF NOT EXISTS records_cls_origin ON records (cls, origin_ns);
CREATE TABLE IF NOT EXISTS packed_blocks (
  id INTEGER PRIMARY KEY,
  batch_id TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
  batch_id TEXT PRIMARY KEY,
  records INTEGER NOT NULL,
  received_ns INTEGER NOT NULL
);
"""
_COLUMNS = (
    "id, key, gateway, cls, device, seq, subject, stream, stream_seq, ts_ns, origin_ns, received_ns, "
    "content_type, payload, block, block_idx"
)
_INSERT = (
    "INSERT OR IGNORE INTO records (key, gateway, cls, device, seq, subject, stream, stream_seq, ts_ns, "
    "origin_ns, received_ns, content_type, payload, block, block_idx) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_BLOCK_CACHE = 8
"""Unpacked event blocks kept by the reader (about 1000 payloads each)."""


_ORIGIN = re.compile(rb'^\{"apiVersion":"v3","requestId":"[^"]*","event":\{[^{}\[\]]*?"origin":(\d+),')


def event_origin_ns(payload: bytes, content_type: str, default: int) -> int:
    """``event.origin`` of an AddEventRequest (or bare Event) payload; ``default`` when absent or unreadable.

    The suite's own encoding (keys in EdgeX's order, no nesting before ``origin``) is matched by a anchored
    pattern; anything else is parsed in full.
    """
    m = _ORIGIN.match(payload) if not content_type else None
    if m is not None:
        return int(m.group(1))
    payload, content_type = unwrap_event(payload) or (payload, content_type)  # an envelope from an older sync
    try:
        if "cbor" in content_type:
            import cbor2

            doc: Any = cbor2.loads(payload)
        else:
            doc = json.loads(payload)
        ev = doc.get("event", doc) if isinstance(doc, dict) else None
        origin = ev.get("origin") if isinstance(ev, dict) else None
        return int(origin) if isinstance(origin, int) and origin > 0 else default
    except (ValueError, TypeError, AttributeError, ImportError):
        return default


def _stored(row: tuple[Any, ...], payload: bytes) -> StoredRecord:
    return StoredRecord(
        id=row[0],
        key=row[1],
        gateway=row[2],
        cls=DataClass(row[3]),
        device=row[4],
        seq=row[5],
        subject=row[6],
        stream=row[7],
        stream_seq=row[8],
        ts_ns=row[9],
        origin_ns=row[10],
        received_ns=row[11],
        content_type=row[12],
        payload=payload,
    )


class SqliteStore:
    """A :class:`~edgewatch.receiver.store.RecordStore` on one SQLite file."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="receiver-db-w")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="receiver-db-r")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._blocks: OrderedDict[int, list[bytes]] = OrderedDict()

    async def _on(self, pool: ThreadPoolExecutor, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: indexes of a large store stay in memory
        conn.execute("PRAGMA wal_autocheckpoint=10000")  # checkpoint every ~40 MiB of WAL, not every 4 MiB
        return conn

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wconn = self._connect()
        self._wconn.executescript(_SCHEMA)
        columns = {r[1] for r in self._wconn.execute("PRAGMA table_info(records)")}
        for column in ("block", "block_idx") if "block" not in columns else ():
            self._wconn.execute(f"ALTER TABLE records ADD COLUMN {column} INTEGER")  # a store from before packs

    def _open_reader(self) -> None:
        self._rconn = self._connect()

    async def open(self) -> None:
        await self._on(self._writer, self._open_writer)
        await self._on(self._reader, self._open_reader)

    async def close(self) -> None:
        for pool, attr in ((self._writer, "_wconn"), (self._reader, "_rconn")):
            conn = getattr(self, attr)
            if conn is not None:
                await self._on(pool, conn.close)
                setattr(self, attr, None)
            pool.shutdown(wait=True)

    def _ingest(
        self, batch: BatchHeader, records: list[RecordRow], received_ns: int, packed: PackedEvents | None
    ) -> BatchAck:
        conn = self._wconn
        assert conn is not None
        n = len(records)
        if conn.execute("SELECT 1 FROM batches WHERE batch_id = ?", (batch.batch_id,)).fetchone():
            return BatchAck(batch_id=batch.batch_id, accepted=0, duplicates=n)
        cls = batch.data_class.value
        is_event = batch.data_class is DataClass.EVENT
        conn.execute("BEGIN IMMEDIATE")
        try:
            refs: dict[int, tuple[int, int, int]] = {}
            if packed is not None:
                block = conn.execute(
                    "INSERT INTO packed_blocks (batch_id, body) VALUES (?,?)", (batch.batch_id, packed.body)
                ).lastrowid
                assert block is not None
                refs = {
                    row: (block, k, origin)
                    for k, (row, origin) in enumerate(zip(packed.rows, packed.origins, strict=True))
                }
            rows = []
            for i, r in enumerate(records):
                ref = refs.get(i)
                if ref is not None:
                    origin = ref[2] if ref[2] >= 0 else r.ts_ns  # what event_origin_ns reads from the payload
                elif is_event:
                    origin = event_origin_ns(r.payload, r.content_type, r.ts_ns)
                else:
                    origin = r.ts_ns
                rows.append(
                    (
                        r.resolved_key(batch.gateway, batch.stream),
                        batch.gateway,
                        cls,
                        r.device,
                        r.seq,
                        r.subject,
                        batch.stream,
                        r.stream_seq,
                        r.ts_ns,
                        origin,
                        received_ns,
                        r.content_type,
                        r.payload,
                        None if ref is None else ref[0],
                        None if ref is None else ref[1],
                    )
                )
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            accepted = conn.total_changes - before
            conn.execute("INSERT INTO batches VALUES (?,?,?)", (batch.batch_id, n, received_ns))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return BatchAck(batch_id=batch.batch_id, accepted=accepted, duplicates=n - accepted)

    async def ingest(
        self, batch: BatchHeader, records: list[RecordRow], received_ns: int, packed: PackedEvents | None = None
    ) -> BatchAck:
        ack: BatchAck = await self._on(self._writer, self._ingest, batch, records, received_ns, packed)
        return ack

    @staticmethod
    def _where(q: RecordQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = ["cls = ?"]
        args: list[Any] = [q.cls.value]
        if q.device:
            clauses.append("device = ?")
            args.append(q.device)
        if q.after_id:
            clauses.append("id > ?")
            args.append(q.after_id)
        if q.start_ns:
            clauses.append("origin_ns >= ?")
            args.append(q.start_ns)
        if q.end_ns:
            clauses.append("origin_ns <= ?")
            args.append(q.end_ns)
        return " AND ".join(clauses), args

    def _query(self, q: RecordQuery, offset: int, limit: int) -> list[StoredRecord]:
        assert self._rconn is not None
        where, args = self._where(q)
        order = "origin_ns DESC, id DESC" if q.newest_first else "id ASC"
        sql = f"SELECT {_COLUMNS} FROM records WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self._rconn.execute(sql, [*args, limit, offset]).fetchall()
        return [_stored(row, row[13] if row[14] is None else self._block(row[14])[row[15]]) for row in rows]

    def _block(self, block: int) -> list[bytes]:
        """The payloads of a packed block (reader thread only; LRU of the last few)."""
        payloads = self._blocks.get(block)
        if payloads is not None:
            self._blocks.move_to_end(block)
            return payloads
        assert self._rconn is not None
        (body,) = self._rconn.execute("SELECT body FROM packed_blocks WHERE id = ?", (block,)).fetchone()
        payloads = unpack_packed(body)
        self._blocks[block] = payloads
        if len(self._blocks) > _BLOCK_CACHE:
            self._blocks.popitem(last=False)
        return payloads

    async def query(self, q: RecordQuery, offset: int, limit: int) -> list[StoredRecord]:
        out: list[StoredRecord] = await self._on(self._reader, self._query, q, offset, limit)
        return out

    def _count(self, q: RecordQuery) -> int:
        assert self._rconn is not None
        where, args = self._where(q)
        row = self._rconn.execute(f"SELECT COUNT(*) FROM records WHERE {where}", args).fetchone()
        return int(row[0])

    async def count(self, q: RecordQuery) -> int:
        n: int = await self._on(self._reader, self._count, q)
        return n

    def _prune(self, cutoff_ns: int) -> int:
        assert self._wconn is not None
        return prune_before(self._wconn, cutoff_ns)

    async def prune(self, cutoff_ns: int) -> int:
        n: int = await self._on(self._writer, self._prune, cutoff_ns)
        await self._on(self._reader, self._blocks.clear)  # cached blocks of deleted rows are dropped too
        return n

    def _progress(self) -> list[GatewayProgress]:
        assert self._rconn is not None
        rows = self._rconn.execute(
            "SELECT gateway, cls, COUNT(*), MAX(stream_seq), MAX(received_ns) FROM records GROUP BY gateway, cls"
        ).fetchall()
        return [GatewayProgress(r[0], DataClass(r[1]), r[2], r[3], r[4]) for r in rows]

    async def progress(self) -> list[GatewayProgress]:
        out: list[GatewayProgress] = await self._on(self._reader, self._progress)
        return out
