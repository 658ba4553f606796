"""FeaturesSettings: the features service's settings (common sections + its own)."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.service.settings import Section, ServiceSection, ServiceSettings

__all__ = ["DEFAULT_PORT", "FeaturesSection", "FeaturesSettings"]

DEFAULT_PORT = 59910


class FeaturesSection(Section):
    """``Features:`` section of the YAML settings."""

    config_store: str = Field(
        "features/config.json",
        description="Per-device feature configuration file, relative to DataDir ('' = keep it in memory only)",
    )


class FeaturesSettings(ServiceSettings):
    """Settings of edgewatch-features."""

    service: ServiceSection = Field(default_factory=lambda: ServiceSection(port=DEFAULT_PORT))
    features: FeaturesSection = Field(default_factory=FeaturesSection)
