"""InferenceEngine: picks the model for a device, scores FeatureVectors, auto-fits baselines, swaps models.

Slots: each device may have its own model (auto-fitted baselines are per device); the ``*`` slot serves every
other device. A swap loads and validates the new session first and then replaces the slot's model in one
assignment, keeping the old one as ``previous`` for rollback, so scoring never sees a half-loaded model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError
from edgewatch.common.contracts.score import Score
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.inference.autofit import BaselineCollector
from edgewatch.inference.config import InferenceSection
from edgewatch.inference.errors import FeatureMismatchError, ModelNotFoundError, NoModelError
from edgewatch.inference.models import DEFAULT_SLOT, ModelMeta, ModelRef, ModelRegistry
from edgewatch.inference.session import LoadedModel, load_model

__all__ = ["InferenceEngine", "Outcome", "VectorLike"]

log = logging.getLogger(__name__)

Outcome = dict[str, Any] | EdgeXError | None


def _top_contributions(
    names: list[str], contrib: npt.NDArray[np.float32] | None, k: int
) -> list[dict[str, float]] | None:
    """Per row, the ``k`` largest contributions by feature name (all of them when k >= N)."""
    if contrib is None or k == 0:
        return None
    n = contrib.shape[1]
    if k >= n:
        return [dict(zip(names, row, strict=True)) for row in contrib.tolist()]
    if contrib.shape[0] == 1:  # a lone vector: plain Python beats numpy's per-call overhead on one short row
        row = contrib[0].tolist()
        top = sorted(range(n), key=row.__getitem__)[n - k :]
        return [{names[j]: row[j] for j in top}]
    idx = np.argpartition(contrib, n - k, axis=1)[:, n - k :]
    vals = contrib[np.arange(contrib.shape[0])[:, None], idx].tolist()
    return [{names[j]: v for j, v in zip(ix, vs, strict=True)} for ix, vs in zip(idx.tolist(), vals, strict=True)]


def _non_finite(device: str) -> ContractInvalidError:
    return ContractInvalidError(f"device {device}: feature values contain NaN or infinity", field="values")


class VectorLike(Protocol):
    """What the engine reads from a FeatureVector."""

    @property
    def device(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def names(self) -> list[str]: ...
    @property
    def values(self) -> npt.NDArray[np.float64]: ...
    @property
    def window_start(self) -> int: ...
    @property
    def window_end(self) -> int: ...
    @property
    def config_version(self) -> object: ...
    @property
    def correlation_id(self) -> str: ...


@dataclass
class _Slot:
    current: LoadedModel | None = None
    previous: LoadedModel | None = None


class InferenceEngine:
    """Scores vectors with the slot's model; all mutation happens on the event loop (no locks in the hot path)."""

    def __init__(
        self,
        registry: ModelRegistry,
        cfg: InferenceSection,
        metrics: ServiceMetrics,
        writable_thresholds: Callable[[], dict[str, float]] = dict,
    ) -> None:
        self.registry = registry
        self.cfg = cfg
        self._writable_thresholds = writable_thresholds
        self._slots: dict[str, _Slot] = {}
        self._baselines = BaselineCollector(cfg)
        self._seq: dict[str, int] = {}
        self._state = registry.read_state()
        self._swap_lock = asyncio.Lock()
        self.scored = metrics.counter("edgewatch_inference_scores", "FeatureVectors scored")
        self.fits = metrics.counter("edgewatch_inference_baseline_fits", "Per-device baseline models fitted")
        self.swaps = metrics.counter("edgewatch_inference_model_swaps", "Model activations and rollbacks", ("op",))
        self.rejected_models = metrics.counter("edgewatch_inference_models_rejected", "Models failing validation")

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
            return load_model(meta, data, self.cfg.providers, self.cfg.intra_op_threads)
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
        """Score vectors in order with one ORT call per serving model.

        Returns, per vector: the Score as its wire document (camelCase keys, see ``contracts.score``), ``None``
        while its device's baseline is being collected, or the EdgeXError that rejects it.
        """
        out: list[Outcome] = [None] * len(fvs)
        groups: dict[int, tuple[LoadedModel, list[int]]] = {}
        for i, fv in enumerate(fvs):
            try:
                model = self._resolve(fv)
            except EdgeXError as e:
                out[i] = e
                continue
            if model is not None:
                groups.setdefault(id(model), (model, []))[1].append(i)
        for model, rows in groups.values():
            self._run_group(model, [fvs[i] for i in rows], rows, out)
        return out

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

    def _run_group(self, model: LoadedModel, fvs: list[VectorLike], rows: list[int], out: list[Outcome]) -> None:
        if len(fvs) == 1:
            x = fvs[0].values.astype(np.float32).reshape(1, -1)
        else:
            x = np.stack([fv.values for fv in fvs]).astype(np.float32)
        finite = np.isfinite(x).all(axis=1)
        if not finite.all():
            for k in np.flatnonzero(~finite).tolist():
                out[rows[k]] = _non_finite(fvs[k].device)
            keep = np.flatnonzero(finite).tolist()
            if not keep:
                return
            x, fvs, rows = x[keep], [fvs[k] for k in keep], [rows[k] for k in keep]
        scores, contrib = model.run(x)
        values = scores.tolist()
        tops = _top_contributions(model.meta.input_names, contrib, self.cfg.contributions_top)
        meta, now = model.meta, time.time_ns()
        overrides, default, seqs = self.thresholds(), meta.threshold, self._seq
        for k, fv in enumerate(fvs):
            device, value = fv.device, values[k]
            threshold = overrides.get(device, default)
            seq = seqs[device] = seqs.get(device, 0) + 1
            doc: dict[str, Any] = {
                "device": device,
                "profile": fv.profile,
                "modelName": meta.name,
                "modelVersion": meta.version,
                "modelSha256": meta.sha256,
                "score": value,
                "threshold": threshold,
                "isAnomaly": value > threshold,
                "windowStart": fv.window_start,
                "windowEnd": fv.window_end,
                "featureConfigVersion": str(fv.config_version),
                "origin": now,
                "sequence": seq,
                "correlationId": fv.correlation_id,
            }
            if tops is not None:
                doc["contributions"] = tops[k]
            out[rows[k]] = doc
        self.scored.inc(len(fvs))

    def model_for(self, device: str) -> LoadedModel | None:
        """The model serving ``device``: its own slot's, else the default slot's."""
        own = self._slots.get(device)
        if own is not None and own.current is not None:
            return own.current
        default = self._slots.get(DEFAULT_SLOT)
        return default.current if default is not None else None

    def _collect(self, fv: VectorLike) -> None:
        if not self.cfg.auto_fit:
            raise NoModelError(fv.device)
        try:
            fitted = self._baselines.add(fv.device, list(fv.names), fv.values)
        except ValueError as e:
            raise _non_finite(fv.device) from e
        if fitted is None:
            return
        meta, data = fitted
        meta = self.registry.save(meta, data)
        self._install(fv.device, load_model(meta, data, self.cfg.providers, self.cfg.intra_op_threads), "fit")
        self.fits.inc()
        log.info("baseline model fitted", extra={"device": fv.device, "model": f"{meta.name}/{meta.version}"})

    def baseline_progress(self) -> dict[str, int]:
        """Devices still collecting their baseline -> vectors collected so far."""
        return self._baselines.progress()

    # --- model management -------------------------------------------------------------------------------------

    async def upload(self, meta: ModelMeta, data: bytes, *, activate: bool, device: str = "") -> ModelMeta:
        """Validate a new model (session + golden vector), store it, and optionally make it serve ``device``.

        Raises:
            ModelValidationError: the model does not load or fails its golden vector; nothing changes.
        """
        async with self._swap_lock:
            loaded = await self._validated(meta, data)
            stored = self.registry.save(loaded.meta, data)
            if activate:
                self._install(device or DEFAULT_SLOT, loaded, "activate")
            return stored

    async def activate(self, name: str, version: str, device: str = "") -> LoadedModel:
        """Load a stored model, validate it, then switch ``device`` (or the default slot) to it.

        Raises:
            ModelNotFoundError: not in the registry.
            ModelValidationError: it fails validation; the serving model stays.
        """
        async with self._swap_lock:
            meta, data = self.registry.load(name, version)
            loaded = await self._validated(meta, data)
            self._install(device or DEFAULT_SLOT, loaded, "activate")
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
            self._persist(key, slot)
            self.swaps.labels("rollback").inc()
            assert slot.current is not None
            return slot.current

    async def _validated(self, meta: ModelMeta, data: bytes) -> LoadedModel:
        try:
            return await asyncio.to_thread(load_model, meta, data, self.cfg.providers, self.cfg.intra_op_threads)
        except Exception:
            self.rejected_models.inc()
            raise

    def _install(self, key: str, loaded: LoadedModel, op: str) -> None:
        slot = self._slot(key)
        if slot.current is not None:
            slot.previous = slot.current
        slot.current = loaded  # the atomic switch: the next vector sees the new model, never a partial one
        self._persist(key, slot)
        self.swaps.labels(op).inc()

    def _persist(self, key: str, slot: _Slot) -> None:
        for target, model in ((self._state.current, slot.current), (self._state.previous, slot.previous)):
            if model is None:
                target.pop(key, None)
            else:
                target[key] = ModelRef(name=model.meta.name, version=model.meta.version)
        self.registry.write_state(self._state)

    def _slot(self, key: str) -> _Slot:
        return self._slots.setdefault(key, _Slot())

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
