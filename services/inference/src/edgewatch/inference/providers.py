"""Execution providers: the preference list, the options each provider gets, and what a session really uses.

TensorRT gets FP16 and an engine cache (building a TensorRT engine at session creation takes seconds to minutes;
ANCHORS.md 3.1 recommends ``trt_engine_cache_enable``), CUDA and TensorRT get the configured device id. Options
are passed to ORT next to the provider names (``provider_options``); what ORT reports back per session
(``get_providers()``, ``get_provider_options()``) is what the REST API shows, so a silent CPU fallback is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["CPU", "CUDA", "DEFAULT_PROVIDERS", "TENSORRT", "ProviderConfig", "provider_options", "select_providers"]

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
DEFAULT_PROVIDERS = [TENSORRT, CUDA, "OpenVINOExecutionProvider", CPU]


@dataclass(frozen=True)
class ProviderConfig:
    """Options for the GPU providers (picklable: parse workers load models with it too)."""

    device_id: int = 0
    trt_fp16: bool = True
    trt_engine_cache: bool = True
    trt_engine_cache_path: str = ""
    extra: dict[str, dict[str, str]] = field(default_factory=dict)


def select_providers(preferred: Sequence[str], available: Sequence[str]) -> list[str]:
    """``preferred`` in order, keeping only the available ones, with the CPU provider always last."""
    chosen = [p for p in dict.fromkeys(preferred) if p in available and p != CPU]
    return [*chosen, CPU]


def _flag(v: bool) -> str:
    return "True" if v else "False"


def provider_options(providers: Sequence[str], cfg: ProviderConfig) -> list[dict[str, str]]:
    """ORT ``provider_options``, one dict per provider in ``providers`` (``extra`` wins over the typed keys)."""
    out: list[dict[str, str]] = []
    for p in providers:
        opts: dict[str, str] = {}
        if p == TENSORRT:
            opts = {"device_id": str(cfg.device_id), "trt_fp16_enable": _flag(cfg.trt_fp16)}
            if cfg.trt_engine_cache:
                opts["trt_engine_cache_enable"] = "True"
                opts["trt_timing_cache_enable"] = "True"
                if cfg.trt_engine_cache_path:
                    opts["trt_engine_cache_path"] = cfg.trt_engine_cache_path
                    opts["trt_timing_cache_path"] = cfg.trt_engine_cache_path
        elif p == CUDA:
            opts = {"device_id": str(cfg.device_id)}
        out.append({**opts, **cfg.extra.get(p, {})})
    return out
