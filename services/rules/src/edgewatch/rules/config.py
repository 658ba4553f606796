"""RulesSettings: the rules service's settings (common sections + its own)."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.service.settings import ServiceSection, ServiceSettings

__all__ = ["DEFAULT_PORT", "RulesSettings"]

DEFAULT_PORT = 59930


class RulesSettings(ServiceSettings):
    """Settings of edgewatch-rules."""

    service: ServiceSection = Field(default_factory=lambda: ServiceSection(port=DEFAULT_PORT))
