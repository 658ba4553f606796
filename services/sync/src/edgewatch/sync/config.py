"""SyncSettings: the sync service's settings (common sections + buffer, uplink and sink)."""

from __future__ import annotations

import socket
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings
from edgewatch.syncwire.batch import DataClass

__all__ = ["BufferSection", "ClassBuffer", "SinkSection", "SyncSection", "SyncSettings"]

MiB = 1024 * 1024


class ClassBuffer(Section):
    """The local JetStream buffer of one data class."""

    max_bytes: int = Field(..., gt=0, description="Byte budget of the class stream (JetStream MaxBytes)")
    max_age: float = Field(0.0, ge=0, description="Seconds a message may wait before it is dropped (0 = no limit)")
    discard: Literal["old", "new"] = Field(
        "old", description="When full: 'old' drops the oldest (counted), 'new' rejects the publish (error)"
    )


class BufferSection(Section):
    """Per-class buffers; alerts must use discard 'new' and no age limit (they are never dropped)."""

    alert: ClassBuffer = Field(default_factory=lambda: ClassBuffer(max_bytes=256 * MiB, discard="new"))
    score: ClassBuffer = Field(default_factory=lambda: ClassBuffer(max_bytes=512 * MiB, max_age=7 * 86400))
    feature: ClassBuffer = Field(default_factory=lambda: ClassBuffer(max_bytes=1024 * MiB, max_age=7 * 86400))
    event: ClassBuffer = Field(default_factory=lambda: ClassBuffer(max_bytes=4096 * MiB, max_age=7 * 86400))
    replicas: int = Field(1, ge=1, le=5, description="JetStream replicas (1 on a single gateway)")
    max_msg_size: int = Field(8 * MiB, gt=0, description="Largest accepted message")

    @model_validator(mode="after")
    def _alerts_never_dropped(self) -> BufferSection:
        if self.alert.discard != "new":
            raise ValueError("Buffer.Alert.Discard: must be 'new' (alerts are never dropped)")
        if self.alert.max_age != 0:
            raise ValueError("Buffer.Alert.MaxAge: must be 0 (alerts are never dropped)")
        return self

    def of(self, cls: DataClass) -> ClassBuffer:
        """The buffer settings of ``cls``."""
        buf: ClassBuffer = getattr(self, cls.value)
        return buf

    def total_bytes(self) -> int:
        """Sum of the class budgets (must fit in the server's max_file_store)."""
        return sum(self.of(c).max_bytes for c in DataClass)


class SinkSection(Section):
    """Where batches go: the receiver over HTTPS, a remote JetStream (NATS to NATS), or an MQTT broker."""

    kind: Literal["http", "nats", "mqtt"] = Field(
        "http", description="http = POST to the receiver; nats = remote JetStream; mqtt = an MQTT 5 broker"
    )
    url: str = Field(
        f"http://127.0.0.1:{ports.RECEIVER}",
        description="Receiver base URL (http sink); mqtt://host:port or mqtts://host:port (mqtt sink)",
    )
    token: str = Field("", description="Bearer token for the receiver (mqtt sink: the password)")
    token_file: str = Field("", description="File holding the bearer token (preferred over Token)")
    timeout: float = Field(30.0, gt=0, description="Seconds per upload attempt")
    verify_tls: bool = Field(True, description="Verify the receiver's TLS certificate")
    ca_file: str = Field("", description="CA bundle for the receiver's certificate")
    nats_servers: list[str] = Field(
        default_factory=list, description="nats sink: remote servers; empty = the local bus (through a leafnode)"
    )
    nats_domain: str = Field("", description="nats sink: JetStream domain of the cloud (leafnode topology)")
    nats_stream: str = Field("EDGEWATCH_CLOUD", description="nats sink: remote stream (created if missing)")
    nats_subject_prefix: str = Field("edgewatch.cloud", description="nats sink: subjects <prefix>.<class>.<device>")
    nats_duplicate_window: float = Field(3600.0, gt=0, description="nats sink: remote dedup window, seconds")
    mqtt_topic_prefix: str = Field(
        "edgewatch", min_length=1, description="mqtt sink: topics <prefix>/<gateway>/<class>/<device>"
    )
    mqtt_client_id: str = Field("", description="mqtt sink: client id of the persistent session (default per gateway)")
    mqtt_username: str = Field("", description="mqtt sink: user name (password: Token / TokenFile)")
    mqtt_cert_file: str = Field("", description="mqtt sink: client certificate (mqtts, mutual TLS)")
    mqtt_key_file: str = Field("", description="mqtt sink: client certificate key")
    mqtt_session_expiry: int = Field(86400, ge=0, description="mqtt sink: session expiry interval, seconds")
    mqtt_keepalive: int = Field(30, ge=5, description="mqtt sink: keepalive, seconds")
    mqtt_max_inflight: int = Field(
        100, ge=1, le=65535, description="mqtt sink: unacknowledged QoS 1 publishes at most (capped by the broker)"
    )

    @model_validator(mode="after")
    def _mqtt_url(self) -> SinkSection:
        if self.kind == "mqtt" and not self.url.startswith(("mqtt://", "mqtts://")):
            raise ValueError(f"Sink.Url: the mqtt sink needs mqtt://host:port or mqtts://host:port, not {self.url!r}")
        return self


class SyncSection(Section):
    """Batching, retry and bandwidth of the uploader."""

    gateway_id: str = Field(default_factory=socket.gethostname, description="This gateway's id in the cloud")
    batch_max_msgs: int = Field(1000, ge=1, description="Records per batch at most")
    batch_max_bytes: int = Field(1 * MiB, ge=1024, description="Raw payload bytes per batch at most")
    batch_linger: float = Field(0.05, ge=0, description="Seconds to wait for a batch to fill (0 = send at once)")
    compression_level: int = Field(3, ge=1, le=22, description="zstd level")
    pack_events: bool = Field(True, description="Columnar lossless event codec (false: opaque payloads, less CPU)")
    retry_initial: float = Field(0.2, gt=0, description="First retry delay, seconds")
    retry_max: float = Field(30.0, gt=0, description="Retry delay cap, seconds (full jitter)")
    outage_after: int = Field(3, ge=1, description="Consecutive failed attempts before the uplink is reported down")
    max_bandwidth_kbps: float = Field(0.0, ge=0, description="Uplink cap in kbit/s of compressed bytes (0 = off)")
    ack_wait: float = Field(30.0, gt=0, description="JetStream AckWait of the uploader consumers, seconds")
    status_interval: float = Field(2.0, gt=0, description="Seconds between backlog/metrics refreshes")
    stream_prefix: str = Field("EW_SYNC", description="Stream names are <prefix>_<CLASS>")
    dedup_on_msg_id: bool = Field(
        False,
        description="Key records by the producer's Nats-Msg-Id (dedup beyond JetStream's window); only when "
        "producers never reuse an id",
    )


class SyncSettings(ServiceSettings):
    """Settings of edgewatch-sync."""

    default_port: ClassVar[int] = ports.SYNC
    sync: SyncSection = Field(default_factory=SyncSection)
    buffer: BufferSection = Field(default_factory=BufferSection)
    sink: SinkSection = Field(default_factory=SinkSection)
