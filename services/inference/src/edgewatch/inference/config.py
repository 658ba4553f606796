"""InferenceSettings: the inference service's settings (common sections + its own)."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.service.settings import ServiceSection, ServiceSettings

__all__ = ["DEFAULT_PORT", "InferenceSettings"]

DEFAULT_PORT = 59920


class InferenceSettings(ServiceSettings):
    """Settings of edgewatch-inference."""

    service: ServiceSection = Field(default_factory=lambda: ServiceSection(port=DEFAULT_PORT))
