"""InferenceEngine: picks the model for a device, scores FeatureVectors, auto-fits baselines, swaps models.

Slots: each device may have its own model (auto-fitted baselines are per device); the ``*`` slot serves every
other device. A swap loads and validates the new session first and then replaces the slot's model in one
assignment, keeping the old one as ``previous`` for rollback, so scoring never sees a half-loaded model.
A slot may also run a shadow model beside its serving one (``shadow.py``): promoted when the criteria pass,
then on probation with automatic rollback. Swaps happen between batches, on the event loop: every vector of a
batch is scored by the models resolved when the batch was prepared, so none is dropped or scored twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError
from edgewatch.common.contracts.score import Score
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.inference.autofit import BaselineCollector
from edgewatch.inference.config import InferenceSection
from edgewatch.inference.errors import FeatureMismatchError, ModelNotFoundError, NoModelError, ShadowConflictError
from edgewatch.inference.models import DEFAULT_SLOT, ModelMeta, ModelRef, ModelRegistry
from edgewatch.inference.providers import ProviderConfig
from edgewatch.inference.scoring import (
    DeviceState,
    Group,
    Plan,
    VectorLike,
    non_finite,
    serving_docs,
    serving_inputs,
    shadow_docs,
    shadow_inputs,
)
from edgewatch.inference.session import LoadedModel, load_model
from edgewatch.inference.shadow import Probation, ShadowRun

__all__ = ["InferenceEngine", "Outcome", "VectorLike"]

log = logging.getLogger(__name__)

Outcome = dict[str, Any] | EdgeXError | None


@dataclass
class _Slot:
    current: LoadedModel | None = None
    previous: LoadedModel | None = None
    shadow: ShadowRun | None = None
    probation: Probation | None = None


class InferenceEngine:
    """Scores vectors with the slot's model; all mutation happens on the event loop (no locks in the hot path)."""

    def __init__(
        self,
        registry: ModelRegistry,
        cfg: InferenceSection,
        metrics: ServiceMetrics,
        writable_thresholds: Callable[[], dict[str, float]] = dict,
        provider_cfg: ProviderConfig | None = None,
    ) -> None:
        self.registry = registry
        self.cfg = cfg
        self.provider_cfg = provider_cfg or ProviderConfig()
        self._writable_thresholds = writable_thresholds
        self._slots: dict[str, _Slot] = {}
        self._watched: set[str] = set()  # slots with a shadow or a probation: the only ones looked at per batch
        self._baselines = BaselineCollector(cfg)
        self._dev = DeviceState()
        self._state = registry.read_state()
        self._swap_lock = asyncio.Lock()
        self.history: deque[dict[str, Any]] = deque(maxlen=32)
        self.scored = metrics.counter("edgewatch_inference_scores", "FeatureVectors scored")
        self.shadow_scored = metrics.counter("edgewatch_inference_shadow_scores", "Vectors scored by shadow models")
        self.fits = metrics.counter("edgewatch_inference_baseline_fits", "Per-device baseline models fitted")
        self.swaps = metrics.counter("edgewatch_inference_model_swaps", "Model activations and rollbacks", ("op",))
        self.rejected_models = metrics.counter("edgewatch_inference_models_rejected", "Models failing validation")

    def load(self, meta: ModelMeta, data: bytes) -> LoadedModel:
        """A validated session for ``meta`` with the configured providers and their options."""
        return load_model(meta, data, self.cfg.providers, self.cfg.intra_op_threads, self.provider_cfg)

    # --- startup ------------------------------------------------------------------------------------------

    def restore(self) -> None:
        """Load the persisted activations; a model that no longer validates is logged and left out."""
        for slot, ref in self._state.current.items():
            self._slot(slot).current = self._try_load(ref)
        for slot, ref in self._state.previous.items():
            self._slot(slot).previous = self._try_load(ref)

    def _try_load(self, ref: ModelRef) -> LoadedModel | None:
        try:
            meta, data = self.registry.load(ref.name, ref.version)
            return self.load(meta, data)
        except Exception as e:
            log.error("stored model not restored", extra={"model": f"{ref.name}/{ref.version}", "error": str(e)})
            return None

    # --- scoring --------------------------------------------------------------------------------------------

    def score(self, fv: VectorLike) -> Score | None:
        """Score one vector (the batch path with one item); ``None`` while the baseline is being collected.

        Raises:
            FeatureMismatchError: the names differ from the serving model's inputs (and it is not auto-fitted).
            NoModelError: nothing serves the device and auto-fit is off.
            ContractInvalidError: values are not finite or do not match the names.
        """
        (outcome,) = self.score_batch([fv])
        if isinstance(outcome, EdgeXError):
            raise outcome
        return None if outcome is None else Score.model_validate(outcome)

    def score_batch(self, fvs: Sequence[VectorLike]) -> list[Outcome]:
        """Score vectors in order with one ORT call per model, on this thread (prepare, run, finish).

        Returns, per vector: the Score as its wire document (camelCase keys, see ``contracts.score``), ``None``
        while its device's baseline or window is being filled, or the EdgeXError that rejects it.
        """
        plan = self.prepare(fvs)
        plan.run()
        return self.finish(plan)[0]

    def prepare(self, fvs: Sequence[VectorLike]) -> Plan:
        """On the loop: resolve each vector's serving (and shadow) model, fill windows, build the model inputs."""
        plan = Plan(list(fvs), [None] * len(fvs))
        serving: dict[int, Group] = {}
        for i, fv in enumerate(plan.fvs):
            try:
                model = self._resolve(fv)
            except EdgeXError as e:
                plan.out[i] = e
                continue
            if model is not None:
                g = serving.get(id(model))
                if g is None:
                    g = serving[id(model)] = Group(model, "", False)
                g.rows.append(i)
        alive: list[int] = []
        windows: dict[tuple[int, int], npt.NDArray[np.float64] | None] = {}
        for g in serving.values():
            serving_inputs(self._dev, plan, g, alive, windows)
        has_shadow = any(self._slots[k].shadow is not None for k in self._watched)
        shadows = shadow_inputs(self._dev, plan, sorted(alive), windows, self._shadow_for) if has_shadow else []
        plan.groups = [*serving.values(), *shadows]
        return plan

    def finish(self, plan: Plan) -> tuple[list[Outcome], list[dict[str, Any]]]:
        """On the loop: thresholds, persistence and Score documents; shadow statistics, promotion, probation.

        Returns the outcome per vector (as ``score_batch``) and the shadow Score documents.
        """
        now, overrides = time.time_ns(), self.thresholds()
        watched = [self._slots[k] for k in self._watched]
        probations = {id(s.probation.model): s.probation for s in watched if s.probation is not None}
        shadows: list[dict[str, Any]] = []
        top_k = self.cfg.contributions_top
        for g in plan.groups:
            if g.scores is not None and not g.shadow:
                serving_docs(self._dev, plan, g, overrides, now, top_k, probations.get(id(g.model)))
                self.scored.inc(len(g.rows))
        for g in plan.groups:
            if g.scores is not None and g.shadow:
                slot = self._slots.get(g.slot)
                run = slot.shadow if slot is not None else None
                docs = shadow_docs(self._dev, plan, g, overrides, now, run if run and run.model is g.model else None)
                self.shadow_scored.inc(len(docs))
                shadows.extend(docs)
        self._decide()
        return plan.out, shadows

    def _decide(self) -> None:
        """After a batch: promote shadows whose criteria pass (when automatic), end or fail probations."""
        for key in list(self._watched):
            slot = self._slots[key]
            if slot.shadow is None and slot.probation is None:
                self._watched.discard(key)
                continue
            run = slot.shadow
            auto = run is not None and self.cfg.shadow_auto_promote and run.vectors >= self.cfg.shadow_min_vectors
            if auto and run is not None and run.verdict(self.cfg).passed:
                self._promote(key, slot, "auto")
            p = slot.probation
            if p is None or slot.current is not p.model:
                slot.probation = None
                continue
            outcome = p.check(self.cfg)
            if outcome == "rollback":
                reason = (
                    f"alarm rate {p.rate:.4f} departs from {p.reference_rate:.4f} by more than "
                    f"ProbationMaxAlarmRateDiff {self.cfg.probation_max_alarm_rate_diff} after {p.vectors} vectors"
                )
                slot.current, slot.previous = slot.previous, slot.current
                slot.probation = None
                self._persist(key, slot)
                self._prune()
                self.swaps.labels("auto-rollback").inc()
                self._event("rolledBack", key, p.model, reason=reason)
                log.warning("promoted model rolled back", extra={"slot": key, "reason": reason})
            elif outcome == "passed":
                slot.probation = None
                self._event("probationPassed", key, p.model, alarmRate=p.rate)

    def _resolve(self, fv: VectorLike) -> LoadedModel | None:
        """The model for ``fv``; ``None`` after feeding it to the device's baseline (which may fit a model)."""
        device = fv.device
        if fv.values.shape != (len(fv.names),):
            raise ContractInvalidError(f"device {device}: {fv.values.shape} values for {len(fv.names)} names")
        model = self.model_for(device)
        if model is not None and model.meta.input_names != fv.names:
            if not (self.cfg.auto_fit and model.meta.auto_device == device):
                raise FeatureMismatchError(device, model.meta.name, model.meta.input_names, list(fv.names))
            log.warning("feature names changed; refitting the device baseline", extra={"device": device})
            slot = self._slot(device)
            slot.previous, slot.current = slot.current, None
            self._persist(device, slot)
            model = self.model_for(device)
            if model is not None and model.meta.input_names != fv.names:
                model = None
        if model is None:
            self._collect(fv)
        return model

    def model_for(self, device: str) -> LoadedModel | None:
        """The model serving ``device``: its own slot's, else the default slot's."""
        own = self._slots.get(device)
        if own is not None and own.current is not None:
            return own.current
        default = self._slots.get(DEFAULT_SLOT)
        return default.current if default is not None else None

    def _shadow_for(self, device: str) -> ShadowRun | None:
        """The shadow beside the model serving ``device``: its own slot's, else (if served by ``*``) the default's."""
        own = self._slots.get(device)
        if own is not None:
            if own.shadow is not None:
                return own.shadow
            if own.current is not None:
                return None
        default = self._slots.get(DEFAULT_SLOT)
        return default.shadow if default is not None and device != DEFAULT_SLOT else None

    def _collect(self, fv: VectorLike) -> None:
        if not self.cfg.auto_fit:
            raise NoModelError(fv.device)
        try:
            fitted = self._baselines.add(fv.device, list(fv.names), fv.values)
        except ValueError as e:
            raise non_finite(fv.device) from e
        if fitted is None:
            return
        meta, data = fitted
        meta = self.registry.save(meta, data)
        self._install(fv.device, self.load(meta, data), "fit")
        self.fits.inc()
        log.info("baseline model fitted", extra={"device": fv.device, "model": f"{meta.name}/{meta.version}"})

    def baseline_progress(self) -> dict[str, int]:
        """Devices still collecting their baseline -> vectors collected so far."""
        return self._baselines.progress()

    # --- model management -------------------------------------------------------------------------------------

    async def upload(
        self, meta: ModelMeta, data: bytes, *, activate: bool, device: str = "", shadow: bool = False
    ) -> ModelMeta:
        """Validate a new model (session + golden vectors), store it, and optionally make it serve or shadow.

        Raises:
            ModelValidationError: the model does not load or fails a golden vector; nothing changes.
            ShadowConflictError, ModelNotFoundError: ``shadow`` and the slot cannot take it (the model is stored).
        """
        async with self._swap_lock:
            loaded = await self._validated(meta, data)
            stored = self.registry.save(loaded.meta, data)
            if activate and not shadow:
                self._install(device or DEFAULT_SLOT, loaded, "activate")
            elif shadow:
                self._start_shadow(device, loaded)
            return stored

    async def activate(self, name: str, version: str, device: str = "") -> LoadedModel:
        """Load a stored model, validate it, then switch ``device`` (or the default slot) to it.

        Activating the slot's shadow model promotes it (an operator's decision: the criteria are not checked,
        the probation applies).

        Raises:
            ModelNotFoundError: not in the registry.
            ModelValidationError: it fails validation; the serving model stays.
        """
        async with self._swap_lock:
            key = device or DEFAULT_SLOT
            slot = self._slots.get(key)
            if slot is not None and slot.shadow is not None and _is(slot.shadow.model, name, version):
                return self._promote(key, slot, "activate")
            meta, data = self.registry.load(name, version)
            loaded = await self._validated(meta, data)
            self._install(key, loaded, "activate")
            return loaded

    async def rollback(self, device: str = "") -> LoadedModel:
        """Serve the slot's previous model again (the current one becomes previous).

        Raises:
            ModelNotFoundError: the slot has no previous model.
        """
        async with self._swap_lock:
            key = device or DEFAULT_SLOT
            slot = self._slots.get(key)
            if slot is None or slot.previous is None:
                raise ModelNotFoundError(f"slot {key}: no previous model to roll back to")
            slot.current, slot.previous = slot.previous, slot.current
            slot.probation = None
            if slot.shadow is not None:
                slot.shadow.reset()
            self._persist(key, slot)
            self._prune()
            self.swaps.labels("rollback").inc()
            assert slot.current is not None
            return slot.current

    async def start_shadow(self, name: str, version: str, device: str = "") -> ShadowRun:
        """Load and validate a stored model, then score beside the slot's serving model (replacing a shadow).

        Raises:
            ModelNotFoundError: not in the registry, or nothing serves the slot.
            ModelValidationError: it fails validation.
            ShadowConflictError: it is the model serving the slot.
        """
        async with self._swap_lock:
            meta, data = self.registry.load(name, version)
            loaded = await self._validated(meta, data)
            return self._start_shadow(device, loaded)

    def _start_shadow(self, device: str, loaded: LoadedModel) -> ShadowRun:
        key = device or DEFAULT_SLOT
        serving = self.model_for(key)
        if serving is None:
            raise ModelNotFoundError(f"slot {key}: no serving model to compare a shadow with")
        if _is(serving, loaded.meta.name, loaded.meta.version):
            raise ShadowConflictError(key, [f"{loaded.meta.name}/{loaded.meta.version} already serves this slot"])
        slot = self._slot(key)
        slot.shadow = ShadowRun(loaded, key)
        self._watched.add(key)
        self._event("shadowStarted", key, loaded)
        return slot.shadow

    def stop_shadow(self, device: str = "") -> None:
        """Stop the slot's shadow model.

        Raises:
            ModelNotFoundError: the slot has no shadow.
        """
        key = device or DEFAULT_SLOT
        slot = self._slots.get(key)
        if slot is None or slot.shadow is None:
            raise ModelNotFoundError(f"slot {key}: no shadow model")
        self._event("shadowStopped", key, slot.shadow.model)
        slot.shadow = None
        self._prune()

    async def promote(self, device: str = "", *, force: bool = False) -> LoadedModel:
        """Promote the slot's shadow when its criteria pass (or ``force``); the probation starts.

        Raises:
            ModelNotFoundError: the slot has no shadow.
            ShadowConflictError: a criterion fails (each is named) and ``force`` is not set.
        """
        async with self._swap_lock:
            key = device or DEFAULT_SLOT
            slot = self._slots.get(key)
            if slot is None or slot.shadow is None:
                raise ModelNotFoundError(f"slot {key}: no shadow model to promote")
            verdict = slot.shadow.verdict(self.cfg)
            if not verdict.passed and not force:
                raise ShadowConflictError(key, ["not promoted", *verdict.reasons])
            return self._promote(key, slot, "manual" if verdict.passed else "forced")

    def _promote(self, key: str, slot: _Slot, how: str) -> LoadedModel:
        run = slot.shadow
        assert run is not None
        figures = run.view(self.cfg)
        self._install(key, run.model, "promote")
        slot.shadow = None
        slot.probation = Probation(run.model, key, run.serving_rate)
        self._watched.add(key)
        self._prune()
        self._event("promoted", key, run.model, how=how, shadow=figures)
        log.info("shadow model promoted", extra={"slot": key, "model": f"{run.model.meta.name}", "how": how})
        return run.model

    async def _validated(self, meta: ModelMeta, data: bytes) -> LoadedModel:
        try:
            return await asyncio.to_thread(self.load, meta, data)
        except Exception:
            self.rejected_models.inc()
            raise

    def _install(self, key: str, loaded: LoadedModel, op: str) -> None:
        slot = self._slot(key)
        if slot.current is not None:
            slot.previous = slot.current
        slot.current = loaded  # the atomic switch: the next batch sees the new model, never a partial one
        slot.probation = None
        if slot.shadow is not None:
            slot.shadow.reset()
        self._persist(key, slot)
        self._prune()
        self.swaps.labels(op).inc()

    def _persist(self, key: str, slot: _Slot) -> None:
        for target, model in ((self._state.current, slot.current), (self._state.previous, slot.previous)):
            if model is None:
                target.pop(key, None)
            else:
                target[key] = ModelRef(name=model.meta.name, version=model.meta.version)
        self.registry.write_state(self._state)

    def _prune(self) -> None:
        self._dev.prune(m.meta for m in self._scoring_models())

    def _scoring_models(self) -> Iterator[LoadedModel]:
        for s in self._slots.values():
            if s.current is not None:
                yield s.current
            if s.shadow is not None:
                yield s.shadow.model

    def _slot(self, key: str) -> _Slot:
        return self._slots.setdefault(key, _Slot())

    def _event(self, event: str, slot: str, model: LoadedModel, **more: Any) -> None:
        m = model.meta
        self.history.append(
            {"event": event, "slot": slot, "model": f"{m.name}/{m.version}", "time": time.time_ns(), **more}
        )

    # --- thresholds and views ---------------------------------------------------------------------------------

    def set_threshold(self, device: str, value: float | None) -> None:
        """Set (or with ``None`` remove) a device's REST threshold override; persisted."""
        if value is None:
            self._state.thresholds.pop(device, None)
        else:
            self._state.thresholds[device] = value
        self.registry.write_state(self._state)

    def thresholds(self) -> dict[str, float]:
        """Per-device overrides: REST ones win over Writable ones; other devices use the model's threshold."""
        return {**self._writable_thresholds(), **self._state.thresholds}

    def slots(self) -> dict[str, tuple[LoadedModel | None, LoadedModel | None]]:
        """slot -> (current, previous)."""
        return {k: (s.current, s.previous) for k, s in sorted(self._slots.items())}

    def shadow_status(self) -> dict[str, Any]:
        """Shadows with their live criteria, probations, and the last promotion/rollback events."""
        slots = sorted(self._slots.items())
        return {
            "shadows": [s.shadow.view(self.cfg) for _, s in slots if s.shadow is not None],
            "probations": [s.probation.view(self.cfg) for _, s in slots if s.probation is not None],
            "history": list(self.history),
        }


def _is(model: LoadedModel, name: str, version: str) -> bool:
    return model.meta.name == name and model.meta.version == version
