"""FeaturesSettings: the features service's settings (common sections + its own)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings

__all__ = ["FeaturesSection", "FeaturesSettings"]


class FeaturesSection(Section):
    """``Features:`` section of the YAML settings."""

    config_store: str = Field(
        "features/config.json",
        description="Per-device feature configuration file, relative to DataDir ('' = keep it in memory only)",
    )


class FeaturesSettings(ServiceSettings):
    """Settings of edgewatch-features."""

    default_port: ClassVar[int] = ports.FEATURES
    features: FeaturesSection = Field(default_factory=FeaturesSection)
