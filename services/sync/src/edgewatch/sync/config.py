"""SyncSettings: the sync service's settings (common sections + its own)."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.service.settings import ServiceSection, ServiceSettings

__all__ = ["DEFAULT_PORT", "SyncSettings"]

DEFAULT_PORT = 59940


class SyncSettings(ServiceSettings):
    """Settings of edgewatch-sync."""

    service: ServiceSection = Field(default_factory=lambda: ServiceSection(port=DEFAULT_PORT))
