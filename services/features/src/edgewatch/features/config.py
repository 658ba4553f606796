"""FeaturesSettings: the features service's settings (common sections + its own)."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.service.settings import ServiceSection, ServiceSettings

__all__ = ["DEFAULT_PORT", "FeaturesSettings"]

DEFAULT_PORT = 59910


class FeaturesSettings(ServiceSettings):
    """Settings of edgewatch-features."""

    service: ServiceSection = Field(default_factory=lambda: ServiceSection(port=DEFAULT_PORT))
