"""The sync service's metrics: backlog, oldest age, newest vs last exported sequence, drops, retries, uplink."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.syncwire.batch import DataClass

__all__ = ["ClassProgress", "SyncTelemetry"]


@dataclass
class ClassProgress:
    """The "caught up?" view of one class (Greengrass's last_exported vs newest sequence)."""

    stream: str
    newest_seq: int = 0
    last_exported_seq: int = 0
    backlog_messages: int = 0
    backlog_bytes: int = 0
    oldest_age_s: float = 0.0
    uploaded_messages: int = 0
    dropped_messages: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def caught_up(self) -> bool:
        """Everything stored so far has been exported (or dropped by policy)."""
        return self.backlog_messages == 0


class SyncTelemetry:
    """Prometheus series (``edgewatch_sync_*``, labelled by class) plus the per-class progress records."""

    def __init__(self, metrics: ServiceMetrics, streams: dict[DataClass, str]) -> None:
        m = metrics
        self.progress = {cls: ClassProgress(stream=name) for cls, name in streams.items()}
        self.backlog_messages = m.gauge(
            "edgewatch_sync_backlog_messages", "Messages buffered, not yet acked", ("class",)
        )
        self.backlog_bytes = m.gauge("edgewatch_sync_backlog_bytes", "Bytes buffered, not yet acked", ("class",))
        self.oldest_age = m.gauge("edgewatch_sync_oldest_age_seconds", "Age of the oldest buffered message", ("class",))
        self.newest_seq = m.gauge("edgewatch_sync_newest_seq", "Last stream sequence stored", ("class",))
        self.exported_seq = m.gauge(
            "edgewatch_sync_last_exported_seq", "Last stream sequence the cloud acked", ("class",)
        )
        self.uploaded = m.counter("edgewatch_sync_uploaded_messages", "Records acknowledged by the cloud", ("class",))
        self.duplicates = m.counter("edgewatch_sync_cloud_duplicates", "Records the cloud already had", ("class",))
        self.batches = m.counter("edgewatch_sync_uploaded_batches", "Batches acknowledged by the cloud", ("class",))
        self.raw_bytes = m.counter(
            "edgewatch_sync_raw_bytes", "Payload bytes uploaded (before compression)", ("class",)
        )
        self.wire_bytes = m.counter("edgewatch_sync_wire_bytes", "Compressed bytes uploaded", ("class",))
        self.dropped = m.counter(
            "edgewatch_sync_dropped_messages", "Messages evicted by the full-buffer policy", ("class",)
        )
        self.retries = m.counter("edgewatch_sync_upload_retries", "Failed upload attempts", ("class",))
        self.store_ack = m.hop("sync_store_ack")
        self.uplink_up = m.gauge("edgewatch_sync_uplink_up", "1 while the cloud acknowledges uploads")
        self.uplink_up.set(1)

    def exported(self, cls: DataClass, last_seq: int, accepted: int, dups: int, raw: int, wire: int) -> None:
        """Record an acknowledged batch."""
        p = self.progress[cls]
        p.last_exported_seq = max(p.last_exported_seq, last_seq)
        p.uploaded_messages += accepted + dups
        c = cls.value
        self.exported_seq.labels(c).set(p.last_exported_seq)
        self.uploaded.labels(c).inc(accepted + dups)
        self.duplicates.labels(c).inc(dups)
        self.batches.labels(c).inc()
        self.raw_bytes.labels(c).inc(raw)
        self.wire_bytes.labels(c).inc(wire)

    def resume(self, cls: DataClass, acked_seq: int) -> None:
        """After a restart: everything up to the consumer's ack floor was exported by a predecessor."""
        p = self.progress[cls]
        p.last_exported_seq = max(p.last_exported_seq, acked_seq)
        self.exported_seq.labels(cls.value).set(p.last_exported_seq)

    def drop(self, cls: DataClass, n: int) -> None:
        """Count messages the buffer evicted before upload."""
        self.progress[cls].dropped_messages += n
        self.dropped.labels(cls.value).inc(n)

    def stream_state(self, cls: DataClass, messages: int, nbytes: int, last_seq: int, oldest_age: float) -> None:
        """Refresh the backlog view from the stream's state."""
        p = self.progress[cls]
        p.backlog_messages, p.backlog_bytes, p.newest_seq, p.oldest_age_s = messages, nbytes, last_seq, oldest_age
        c = cls.value
        self.backlog_messages.labels(c).set(messages)
        self.backlog_bytes.labels(c).set(nbytes)
        self.newest_seq.labels(c).set(last_seq)
        self.oldest_age.labels(c).set(oldest_age)
