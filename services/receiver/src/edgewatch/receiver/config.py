"""ReceiverSettings: the cloud receiver's settings (common sections + its store and intake limits)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings

__all__ = ["ReceiverSection", "ReceiverSettings"]

MiB = 1024 * 1024


class ReceiverSection(Section):
    """Storage and intake."""

    store: Literal["sqlite"] = Field("sqlite", description="Record store backend")
    db_path: str = Field("", description="SQLite file; empty = <DataDir>/receiver/receiver.db")
    synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite synchronous (WAL): FULL survives a power cut after the ack; NORMAL may not"
    )
    max_batch_bytes: int = Field(
        32 * MiB, gt=0, description="Largest compressed batch accepted; 413 above, before the body is read"
    )
    max_decoded_bytes: int = Field(
        64 * MiB, gt=0, description="Largest batch once decompressed (decoded 1 MiB at a time; 413 above)"
    )
    stream_keepalive: float = Field(15.0, gt=0, description="Seconds between keepalive comments on the live stream")
    retention_days: float = Field(
        0.0, ge=0, description="Delete records received more than this many days ago (0 = keep everything)"
    )
    retention_interval: float = Field(3600.0, gt=0, description="Seconds between retention sweeps")


class ReceiverSettings(ServiceSettings):
    """Settings of edgewatch-receiver (bearer token: Service.AuthToken / Service.AuthTokenFile)."""

    default_port: ClassVar[int] = ports.RECEIVER
    receiver: ReceiverSection = Field(default_factory=ReceiverSection)
