"""ConsoleSettings: the console's settings (common sections + where the other services are + sessions)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings

__all__ = ["ConsoleSection", "ConsoleSettings", "UpstreamSection"]


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class UpstreamSection(Section):
    """Base URLs of the services the console reads and drives (YAML section ``Upstream``)."""

    core_data_url: str = Field(_url(ports.CORE_DATA), description="core-data")
    core_metadata_url: str = Field(_url(ports.CORE_METADATA), description="core-metadata (devices, profiles)")
    core_command_url: str = Field(_url(ports.CORE_COMMAND), description="core-command")
    ingest_url: str = Field(_url(ports.INGEST), description="ingest (device service)")
    features_url: str = Field(_url(ports.FEATURES), description="features")
    inference_url: str = Field(_url(ports.INFERENCE), description="inference (models, thresholds)")
    rules_url: str = Field(_url(ports.RULES), description="rules (rules, alerts)")
    sync_url: str = Field(_url(ports.SYNC), description="sync (backlog, uplink)")
    timeout: float = Field(
        15.0, gt=0, description="Seconds per upstream request (above the services' 10 s Service.ParseTimeout)"
    )

    def services(self) -> dict[str, str]:
        """Service name -> base URL, in overview order."""
        return {
            "core-data": self.core_data_url,
            "core-metadata": self.core_metadata_url,
            "core-command": self.core_command_url,
            "ingest": self.ingest_url,
            "features": self.features_url,
            "inference": self.inference_url,
            "rules": self.rules_url,
            "sync": self.sync_url,
        }


class ConsoleSection(Section):
    """Sessions and live streams (YAML section ``Console``)."""

    session_idle_timeout: float = Field(1800.0, gt=0, description="Seconds a session lives without a request")
    session_max_age: float = Field(43200.0, gt=0, description="Seconds a session lives at most (then log in again)")
    max_sessions: int = Field(64, ge=1, description="Sessions kept at once (the oldest is dropped past it)")
    secure_cookie: bool = Field(False, description="Mark the session cookie Secure (set when served over HTTPS)")
    history_points: int = Field(600, ge=10, le=100_000, description="Points per series kept for a page that opens")
    history_bytes: int = Field(
        512 * 1024, ge=4096, le=64 * 2**20, description="Bytes of frames kept per device and kind at most"
    )
    max_live_devices: int = Field(
        64, ge=1, le=10_000, description="Devices whose live history is kept (the least recently updated goes first)"
    )
    live_reading_interval: float = Field(
        0.1,
        ge=0,
        le=60,
        description="Seconds between the EdgeX events of one subject the live view decodes (0: every event)",
    )
    stream_queue: int = Field(2048, ge=16, description="Messages queued per open page before it is dropped")
    keepalive: float = Field(15.0, gt=0, description="Seconds between SSE keep-alive comments")
    login_failure_delay: float = Field(0.5, ge=0, description="Seconds a refused login waits before it answers")


class ConsoleSettings(ServiceSettings):
    """Settings of edgewatch-console."""

    default_port: ClassVar[int] = ports.CONSOLE
    upstream: UpstreamSection = Field(default_factory=UpstreamSection)
    console: ConsoleSection = Field(default_factory=ConsoleSection)
