"""InferenceSettings: the inference service's settings (common sections + its own)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings, WritableSection
from edgewatch.inference.session import DEFAULT_PROVIDERS

__all__ = ["InferenceSection", "InferenceSettings", "InferenceWritable"]


class InferenceSection(Section):
    """How models are chosen, fitted and run (YAML section ``Inference``)."""

    providers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROVIDERS),
        description="Execution providers in order of preference; unavailable ones are skipped, CPU is always last",
    )
    intra_op_threads: int = Field(1, ge=1, le=64, description="ORT intra-op threads per session (spinning is off)")
    auto_fit: bool = Field(
        True, description="Fit a per-device baseline model on a device's first BaselineCount vectors"
    )
    baseline_count: int = Field(20, ge=2, le=100_000, description="Vectors per device used for an auto-fit")
    default_threshold: float = Field(
        9.0, gt=0, description="Threshold of auto-fitted models (mean squared z-score; ~1 on baseline-like data)"
    )
    std_rel_floor: float = Field(0.02, ge=0, description="Auto-fit std floor as a fraction of |mean|")
    std_abs_floor: float = Field(1e-6, gt=0, description="Auto-fit absolute std floor")
    max_model_size: int = Field(
        16384, ge=1, description="Largest model file in KB (the base64 upload body may be a third larger); 413 above"
    )
    max_model_nodes: int = Field(
        10_000, ge=1, description="Most graph nodes of an uploaded model, subgraphs and functions included; 400 above"
    )
    contributions_top: int = Field(
        5, ge=0, le=10_000, description="Send the k features contributing most to each score (0 = none)"
    )


class InferenceWritable(WritableSection):
    """Hot-reloadable settings: per-device threshold overrides (REST overrides win over these)."""

    thresholds: dict[str, float] = Field(default_factory=dict, description="device -> anomaly threshold")


class InferenceSettings(ServiceSettings):
    """Settings of edgewatch-inference."""

    default_port: ClassVar[int] = ports.INFERENCE
    writable: InferenceWritable = Field(default_factory=InferenceWritable)
    inference: InferenceSection = Field(default_factory=InferenceSection)
