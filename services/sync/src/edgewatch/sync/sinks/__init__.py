"""Where upload batches go: the cloud receiver over HTTPS, or a remote JetStream (NATS to NATS)."""

from __future__ import annotations

from edgewatch.sync.sinks.base import BatchTooLargeError, Sink, SinkError

__all__ = ["BatchTooLargeError", "Sink", "SinkError"]
