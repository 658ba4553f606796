"""InferenceSettings: the inference service's settings (common sections + its own)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings, WritableSection
from edgewatch.inference.providers import DEFAULT_PROVIDERS, ProviderConfig

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
    # --- execution providers (ProviderConfig) ---
    cuda_device_id: int = Field(0, ge=0, le=64, description="GPU device id for the CUDA and TensorRT providers")
    trt_fp16: bool = Field(True, description="TensorRT: allow FP16 kernels")
    trt_engine_cache: bool = Field(True, description="TensorRT: cache built engines (and timing) across restarts")
    trt_engine_cache_path: str = Field("", description="TensorRT engine cache folder (empty = <DataDir>/trt-cache)")
    provider_options: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Extra ORT options per provider name (win over the keys above)"
    )
    # --- micro-batching (session.run runs in a worker thread, off the event loop) ---
    max_batch: int = Field(256, ge=1, le=65_536, description="Most vectors per session.run")
    batch_deadline_ms: float = Field(
        2.0, ge=0, le=1000, description="Longest a vector waits for others to fill its batch (0 = next loop turn)"
    )
    # --- shadow scoring, promotion and probation (counts are scored vectors, rates are fractions) ---
    shadow_min_vectors: int = Field(500, ge=1, description="Vectors both models scored before live criteria count")
    shadow_max_alarm_rate_diff: float = Field(
        0.02, ge=0, le=1, description="Promotion: |shadow - serving| alarm rate at most this"
    )
    shadow_min_agreement: float = Field(0.98, ge=0, le=1, description="Promotion: isAnomaly agrees on this fraction")
    shadow_auto_promote: bool = Field(True, description="Promote a shadow as soon as every criterion passes")
    probation_vectors: int = Field(500, ge=1, description="Vectors after a promotion during which it may roll back")
    probation_min_vectors: int = Field(100, ge=1, description="Vectors before the probation alarm rate is judged")
    probation_max_alarm_rate_diff: float = Field(
        0.05, ge=0, le=1, description="Roll back when the alarm rate departs more than this from the pre-swap rate"
    )

    def provider_config(self, default_cache: str) -> ProviderConfig:
        """The provider options of this section (``default_cache`` when TrtEngineCachePath is empty)."""
        return ProviderConfig(
            device_id=self.cuda_device_id,
            trt_fp16=self.trt_fp16,
            trt_engine_cache=self.trt_engine_cache,
            trt_engine_cache_path=self.trt_engine_cache_path or default_cache,
            extra=self.provider_options,
        )


class InferenceWritable(WritableSection):
    """Hot-reloadable settings: per-device threshold overrides (REST overrides win over these)."""

    thresholds: dict[str, float] = Field(default_factory=dict, description="device -> anomaly threshold")


class InferenceSettings(ServiceSettings):
    """Settings of edgewatch-inference."""

    default_port: ClassVar[int] = ports.INFERENCE
    writable: InferenceWritable = Field(default_factory=InferenceWritable)
    inference: InferenceSection = Field(default_factory=InferenceSection)
