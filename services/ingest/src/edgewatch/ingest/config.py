"""IngestSettings: the ingest service's settings (common sections + its own)."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.service.settings import ServiceSection, ServiceSettings

__all__ = ["DEFAULT_PORT", "IngestSettings"]

DEFAULT_PORT = 59900


class IngestSettings(ServiceSettings):
    """Settings of edgewatch-ingest."""

    service: ServiceSection = Field(default_factory=lambda: ServiceSection(port=DEFAULT_PORT))
