"""Retention for the SQLite store: delete what arrived before a cutoff, in commit order, in small transactions.

Rows are found by arrival without an index on ``received_ns``: ids increase in commit order and every batch is
stamped with one clock reading, so the last row received before the cutoff is found by a binary search on the
primary key. The newest row of ``records`` and of ``packed_blocks`` is never deleted: SQLite gives a new row
the largest id plus one, so keeping the largest means ids are never reused (consumers page ``records`` by id and
the reader caches unpacked blocks by id).
"""

from __future__ import annotations

import sqlite3

__all__ = ["prune_before"]

_CHUNK = 5000
"""Rows deleted per transaction, so a sweep never holds the write lock for long."""


def _received_at_or_after(conn: sqlite3.Connection, rowid: int) -> int | None:
    row = conn.execute("SELECT received_ns FROM records WHERE id >= ? ORDER BY id LIMIT 1", (rowid,)).fetchone()
    return None if row is None else int(row[0])


def _last_id_before(conn: sqlite3.Connection, cutoff_ns: int, lo: int, hi: int) -> int:
    """The largest id in [lo, hi] whose row (or the next existing one) arrived before ``cutoff_ns``; lo-1 if none."""
    found = lo - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        received = _received_at_or_after(conn, mid)
        if received is not None and received < cutoff_ns:
            found, lo = mid, mid + 1
        else:
            hi = mid - 1
    return found


def prune_before(conn: sqlite3.Connection, cutoff_ns: int) -> int:
    """Delete records, packed blocks and batch entries received before ``cutoff_ns``; return the records deleted."""
    lo, hi = conn.execute("SELECT MIN(id), MAX(id) FROM records").fetchone()
    deleted = 0
    if lo is not None:
        last = min(_last_id_before(conn, cutoff_ns, lo, hi), hi - 1)  # keep the newest row: ids never reused
        start = lo
        while start <= last:
            end = min(start + _CHUNK - 1, last)
            # one statement, so one transaction, per chunk (the connection is in autocommit mode)
            deleted += conn.execute("DELETE FROM records WHERE id BETWEEN ? AND ?", (start, end)).rowcount
            start = end + 1
    # Blocks below the first one still referenced (and below the newest block) are unreferenced.
    ref = conn.execute("SELECT block FROM records WHERE block IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    newest = conn.execute("SELECT MAX(id) FROM packed_blocks").fetchone()[0]
    if newest is not None:
        keep_from = min(int(ref[0]) if ref else newest, newest)
        conn.execute("DELETE FROM packed_blocks WHERE id < ?", (keep_from,))
    conn.execute("DELETE FROM batches WHERE received_ns < ?", (cutoff_ns,))
    return deleted
