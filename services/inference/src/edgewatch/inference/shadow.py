"""Shadow runs and probation: the live evidence behind a promotion, and the watch after it.

A shadow model scores every vector its slot's serving model scores; both alarm flags (``isAnomaly``, after
each model's persistence) are counted per vector both scored. The promotion criteria (``Inference.Shadow*``):

* the golden vectors passed when the shadow's session was loaded (the same session is promoted);
* at least ``ShadowMinVectors`` vectors compared (an alarm rate needs a sample: at 500 vectors a rate of 1 %
  has a standard error of 0.45 points, under a quarter of the default 2-point tolerance);
* ``|shadow alarm rate - serving alarm rate| <= ShadowMaxAlarmRateDiff`` (default 0.02): a retrained model
  should not change how often operators are alarmed by more than 2 points;
* ``agreement >= ShadowMinAgreement`` (default 0.98): equal rates could still hide alarms on different vectors.

After a promotion the model is on probation for ``ProbationVectors`` scored vectors: once
``ProbationMinVectors`` are in, an alarm rate that departs from the rate the replaced model showed during the
shadow run by more than ``ProbationMaxAlarmRateDiff`` rolls the slot back automatically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from edgewatch.inference.config import InferenceSection
from edgewatch.inference.session import LoadedModel

__all__ = ["Probation", "ShadowRun", "Verdict"]


def _rate(k: int, n: int) -> float:
    return k / n if n else 0.0


@dataclass(frozen=True)
class Verdict:
    """Whether a shadow may be promoted; ``reasons`` names each criterion that fails."""

    ready: bool
    passed: bool
    reasons: list[str]


@dataclass
class ShadowRun:
    """Counts of one shadow model beside its slot's serving model."""

    model: LoadedModel
    slot: str
    started: int = field(default_factory=time.time_ns)
    vectors: int = 0
    serving_alarms: int = 0
    shadow_alarms: int = 0
    agreed: int = 0
    scored: int = 0
    skipped: int = 0

    def add(self, serving: bool, shadow: bool) -> None:
        """Count one vector both models scored."""
        self.vectors += 1
        self.serving_alarms += serving
        self.shadow_alarms += shadow
        self.agreed += serving == shadow

    def reset(self) -> None:
        """The serving model changed: earlier comparisons no longer describe the pair."""
        self.vectors = self.serving_alarms = self.shadow_alarms = self.agreed = 0

    @property
    def serving_rate(self) -> float:
        return _rate(self.serving_alarms, self.vectors)

    @property
    def shadow_rate(self) -> float:
        return _rate(self.shadow_alarms, self.vectors)

    @property
    def agreement(self) -> float:
        return _rate(self.agreed, self.vectors)

    def verdict(self, cfg: InferenceSection) -> Verdict:
        """The promotion criteria over the vectors compared so far."""
        reasons = []
        ready = self.vectors >= cfg.shadow_min_vectors
        if not ready:
            reasons.append(f"{self.vectors} of ShadowMinVectors {cfg.shadow_min_vectors} vectors compared")
        diff = abs(self.shadow_rate - self.serving_rate)
        if diff > cfg.shadow_max_alarm_rate_diff:
            reasons.append(
                f"alarm rate differs by {diff:.4f} > ShadowMaxAlarmRateDiff {cfg.shadow_max_alarm_rate_diff}"
            )
        if self.agreement < cfg.shadow_min_agreement:
            reasons.append(f"agreement {self.agreement:.4f} < ShadowMinAgreement {cfg.shadow_min_agreement}")
        return Verdict(ready, ready and not reasons, reasons)

    def view(self, cfg: InferenceSection) -> dict[str, Any]:
        """The REST view: model, counts, rates, criteria."""
        v = self.verdict(cfg)
        return {
            "slot": self.slot,
            "model": {"name": self.model.meta.name, "version": self.model.meta.version},
            "started": self.started,
            "vectorsCompared": self.vectors,
            "shadowScores": self.scored,
            "skipped": self.skipped,
            "servingAlarmRate": self.serving_rate,
            "shadowAlarmRate": self.shadow_rate,
            "alarmRateDiff": abs(self.shadow_rate - self.serving_rate),
            "agreement": self.agreement,
            "goldenPassed": True,  # a shadow exists only after its session passed every golden vector
            "ready": v.ready,
            "criteriaPassed": v.passed,
            "reasons": v.reasons,
        }


@dataclass
class Probation:
    """A promoted model's alarm rate against the rate its predecessor showed during the shadow run."""

    model: LoadedModel
    slot: str
    reference_rate: float
    vectors: int = 0
    alarms: int = 0

    def add(self, alarm: bool) -> None:
        """Count one serving score of the promoted model."""
        self.vectors += 1
        self.alarms += alarm

    @property
    def rate(self) -> float:
        return _rate(self.alarms, self.vectors)

    def check(self, cfg: InferenceSection) -> str | None:
        """``"rollback"`` (with the reason in ``reason``), ``"passed"`` when the window is over, else ``None``."""
        if self.vectors >= cfg.probation_min_vectors and self.departure > cfg.probation_max_alarm_rate_diff:
            return "rollback"
        if self.vectors >= cfg.probation_vectors:
            return "passed"
        return None

    @property
    def departure(self) -> float:
        return abs(self.rate - self.reference_rate)

    def view(self, cfg: InferenceSection) -> dict[str, Any]:
        """The REST view."""
        return {
            "slot": self.slot,
            "model": {"name": self.model.meta.name, "version": self.model.meta.version},
            "vectors": self.vectors,
            "probationVectors": cfg.probation_vectors,
            "alarmRate": self.rate,
            "referenceAlarmRate": self.reference_rate,
            "departure": self.departure,
        }
