"""The sink interface every uplink implements, and its errors.

Errors::

    SinkError            an attempt failed; the uploader retries the same batch (backoff, jitter, no limit)
    ├── BatchTooLargeError  the far side refuses the size; the uploader splits the batch
    └── BatchRefusedError   the far side cannot read the batch (400): an event pack goes again unpacked
"""

from __future__ import annotations

from typing import Protocol

from edgewatch.syncwire.batch import BatchAck, BatchHeader, RecordRow

__all__ = ["BatchRefusedError", "BatchTooLargeError", "Sink", "SinkError"]


class SinkError(Exception):
    """One delivery attempt failed (network, 5xx, auth, timeout); nothing was acknowledged."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class BatchTooLargeError(SinkError):
    """The far side rejected the batch for its size."""


class BatchRefusedError(SinkError):
    """The far side refused the batch as unreadable (e.g. a receiver older than the packed event format)."""


class Sink(Protocol):
    """Delivers a batch; returns only once the far side has durably accepted it."""

    name: str

    async def start(self) -> None:
        """Open connections."""

    async def close(self) -> None:
        """Close connections."""

    async def send(self, header: BatchHeader, records: list[RecordRow], body: bytes) -> BatchAck:
        """Deliver a batch (``body`` is its encoded form).

        Raises:
            SinkError: not acknowledged; retry the same batch.
        """
