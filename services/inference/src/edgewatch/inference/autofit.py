"""Per-device baselines: collect a device's first vectors, then fit and build its standardised-distance model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from edgewatch.inference.baseline import build_standardized_distance, fit_baseline, golden_input, reference_score
from edgewatch.inference.config import InferenceSection
from edgewatch.inference.models import GoldenVector, ModelMeta, safe_name

__all__ = ["BaselineCollector"]


@dataclass
class _Baseline:
    names: list[str]
    rows: list[npt.NDArray[np.float64]] = field(default_factory=list)


class BaselineCollector:
    """Buffers vectors per device; a change of feature names starts that device's baseline over."""

    def __init__(self, cfg: InferenceSection) -> None:
        self.cfg = cfg
        self._baselines: dict[str, _Baseline] = {}

    def add(self, device: str, names: list[str], values: npt.NDArray[np.float64]) -> tuple[ModelMeta, bytes] | None:
        """Buffer one vector; once ``BaselineCount`` are in, the fitted model (metadata without hash, bytes).

        Raises:
            ValueError: the values contain NaN or infinity (never buffered).
        """
        if not np.isfinite(values).all():
            raise ValueError("feature values contain NaN or infinity")
        b = self._baselines.get(device)
        if b is None or b.names != names:
            b = self._baselines[device] = _Baseline(list(names))
        b.rows.append(np.array(values, dtype=np.float64))
        if len(b.rows) < self.cfg.baseline_count:
            return None
        del self._baselines[device]
        return self._fit(device, b)

    def _fit(self, device: str, b: _Baseline) -> tuple[ModelMeta, bytes]:
        cfg = self.cfg
        mean, std = fit_baseline(np.vstack(b.rows), rel_floor=cfg.std_rel_floor, abs_floor=cfg.std_abs_floor)
        probe = golden_input(mean, std)
        now = time.time_ns()
        meta = ModelMeta(
            name=f"auto.{safe_name(device)}",
            version=str(now),
            input_names=b.names,
            threshold=cfg.default_threshold,
            golden=GoldenVector(input=probe.tolist(), expected_score=reference_score(probe, mean, std)),
            kind="standardized-distance",
            auto_device=device,
            created=now,
        )
        doc = f"baseline of {device} over {len(b.rows)} vectors"
        return meta, build_standardized_distance(b.names, mean, std, doc=doc)

    def progress(self) -> dict[str, int]:
        """Devices still collecting -> vectors collected so far."""
        return {d: len(b.rows) for d, b in self._baselines.items()}
