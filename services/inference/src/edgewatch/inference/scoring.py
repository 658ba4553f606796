"""Per-device scoring state and one batch's plan: window buffers, alarm persistence, sequences, Score documents.

A batch is scored in three steps so that ``session.run`` leaves the event loop while every piece of state is
touched on the loop only (no locks): ``InferenceEngine.prepare`` (loop: pick models, fill windows, build the
inputs) -> ``Plan.run`` (worker thread: only ``session.run``) -> ``InferenceEngine.finish`` (loop: thresholds,
persistence, documents, shadow statistics). The windowing and persistence come from ``window.py``, the seam
for ``edgewatch.detect.runtime`` (swap that one import at merge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.detect.runtime import Persistence, WindowBuffer
from edgewatch.inference.models import ModelMeta
from edgewatch.inference.session import LoadedModel
from edgewatch.inference.shadow import Probation, ShadowRun

__all__ = [
    "DeviceState",
    "Group",
    "Plan",
    "VectorLike",
    "non_finite",
    "score_doc",
    "serving_docs",
    "serving_inputs",
    "shadow_docs",
    "shadow_inputs",
    "top_contributions",
]


@dataclass
class Group:
    """Rows of one batch scored by one model, serving or shadow."""

    model: LoadedModel
    slot: str
    shadow: bool
    rows: list[int] = field(default_factory=list)
    inputs: list[npt.NDArray[np.float64]] = field(default_factory=list)
    x: npt.NDArray[np.float32] | None = None
    scores: npt.NDArray[np.float32] | None = None
    contrib: npt.NDArray[np.float32] | None = None


@dataclass
class Plan:
    """One prepared batch: the vectors, their outcomes so far, and the model groups to run."""

    fvs: list[Any]
    out: list[Any]
    groups: list[Group] = field(default_factory=list)

    def run(self) -> None:
        """Run every group's session (the only step allowed off the event loop: it touches no engine state)."""
        for g in self.groups:
            if g.x is not None:
                g.scores, g.contrib = g.model.run(g.x)


class DeviceState:
    """Window buffers per (device, W), alarm state per (device, model), Score sequences per device."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, int], WindowBuffer] = {}
        self._alarms: dict[tuple[str, str, str], Persistence] = {}
        self.seq: dict[str, int] = {}
        self.shadow_seq: dict[str, int] = {}

    def window(self, device: str, w: int, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
        """Push one vector into the device's W-window; the window [W, F] once full, else ``None``."""
        key = (device, w)
        buf = self._windows.get(key)
        if buf is None or buf.n_features != values.shape[0]:
            buf = self._windows[key] = WindowBuffer(w, values.shape[0])
        win = buf.push(values)  # float32, what the model takes
        return None if win is None else win.astype(np.float64)

    def alarm(self, device: str, meta: ModelMeta, over: bool) -> bool:
        """The alarm state of ``device`` under ``meta``'s persistence after one more score."""
        p = meta.persistence
        if p.raise_ == 1 and p.clear == 1:
            return over
        key = (device, meta.name, meta.version)
        state = self._alarms.get(key)
        if state is None:
            state = self._alarms[key] = Persistence(p.raise_, p.clear)
        return state.update(over)

    def prune(self, models: Iterable[ModelMeta]) -> None:
        """Forget windows and alarm states no serving or shadow model uses any more."""
        metas = list(models)
        names = {(m.name, m.version) for m in metas}
        windows = {m.window for m in metas}
        self._alarms = {k: v for k, v in self._alarms.items() if (k[1], k[2]) in names}
        self._windows = {k: v for k, v in self._windows.items() if k[1] in windows}


def score_doc(
    fv: Any, meta: ModelMeta, value: float, threshold: float, alarm: bool, over: bool, now: int, seq: int
) -> dict[str, Any]:
    """The Score wire document (camelCase keys, see ``contracts.score``)."""
    return {
        "device": fv.device,
        "profile": fv.profile,
        "modelName": meta.name,
        "modelVersion": meta.version,
        "modelSha256": meta.sha256,
        "score": value,
        "threshold": threshold,
        "isAnomaly": alarm,
        "overThreshold": over,
        "windowStart": fv.window_start,
        "windowEnd": fv.window_end,
        "featureConfigVersion": str(fv.config_version),
        "origin": now,
        "sequence": seq,
        "correlationId": fv.correlation_id,
    }


def top_contributions(
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


def non_finite(device: str) -> ContractInvalidError:
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


def serving_inputs(
    dev: DeviceState,
    plan: Plan,
    g: Group,
    alive: list[int],
    windows: dict[tuple[int, int], npt.NDArray[np.float64] | None],
) -> None:
    """A serving group's input: finite rows only; a windowed model gets full windows only. Fills ``alive`` and
    ``windows`` (the windows pushed per (row, W)) for the shadow groups."""
    fvs, w = plan.fvs, g.model.meta.window
    if w == 1:
        x = fvs[g.rows[0]].values.reshape(1, -1) if len(g.rows) == 1 else np.stack([fvs[i].values for i in g.rows])
        finite = np.isfinite(x).all(axis=1)
        if not finite.all():
            for k in np.flatnonzero(~finite).tolist():
                plan.out[g.rows[k]] = non_finite(fvs[g.rows[k]].device)
            keep = np.flatnonzero(finite).tolist()
            x, g.rows = x[keep], [g.rows[k] for k in keep]
        alive.extend(g.rows)
        g.x = x.astype(np.float32) if g.rows else None
        return
    rows = []
    for i in g.rows:
        fv = fvs[i]
        if not np.isfinite(fv.values).all():
            plan.out[i] = non_finite(fv.device)
            continue
        alive.append(i)
        win = windows[(i, w)] = dev.window(fv.device, w, fv.values)
        if win is not None:
            rows.append(i)
            g.inputs.append(win)
    g.rows = rows
    g.x = np.stack(g.inputs).astype(np.float32) if rows else None


def shadow_inputs(
    dev: DeviceState,
    plan: Plan,
    alive: list[int],
    windows: dict[tuple[int, int], npt.NDArray[np.float64] | None],
    shadow_for: Callable[[str], ShadowRun | None],
) -> list[Group]:
    """Groups of the shadow models beside the serving ones, for the rows that were scored or windowed."""
    groups: dict[int, Group] = {}
    for i in alive:
        fv = plan.fvs[i]
        run = shadow_for(fv.device)
        if run is None:
            continue
        meta = run.model.meta
        if meta.input_names != fv.names:
            run.skipped += 1
            continue
        w = meta.window
        if w == 1:
            inp: npt.NDArray[np.float64] | None = fv.values
        elif (i, w) in windows:
            inp = windows[(i, w)]
        else:
            inp = windows[(i, w)] = dev.window(fv.device, w, fv.values)
        if inp is not None:
            g = groups.setdefault(id(run.model), Group(run.model, run.slot, True))
            g.rows.append(i)
            g.inputs.append(inp)
    for g in groups.values():
        g.x = np.stack(g.inputs).astype(np.float32)
    return list(groups.values())


def serving_docs(
    dev: DeviceState,
    plan: Plan,
    g: Group,
    overrides: dict[str, float],
    now: int,
    top_k: int,
    probation: Probation | None,
) -> None:
    """The serving group's Score documents into ``plan.out`` (threshold, persistence, sequence, contributions)."""
    assert g.scores is not None
    meta, values, seqs = g.model.meta, g.scores.tolist(), dev.seq
    tops = top_contributions(meta.input_names, g.contrib, top_k)
    default, plain = meta.threshold, meta.persistence.raise_ == 1 and meta.persistence.clear == 1
    name, version, sha = meta.name, meta.version, meta.sha256
    for k, i in enumerate(g.rows):
        fv = plan.fvs[i]
        device, value = fv.device, values[k]
        threshold = overrides.get(device, default)
        over = value > threshold
        alarm = over if plain else dev.alarm(device, meta, over)
        seq = seqs[device] = seqs.get(device, 0) + 1
        doc: dict[str, Any] = {  # score_doc inlined: this loop runs once per vector
            "device": device,
            "profile": fv.profile,
            "modelName": name,
            "modelVersion": version,
            "modelSha256": sha,
            "score": value,
            "threshold": threshold,
            "isAnomaly": alarm,
            "overThreshold": over,
            "windowStart": fv.window_start,
            "windowEnd": fv.window_end,
            "featureConfigVersion": str(fv.config_version),
            "origin": now,
            "sequence": seq,
            "correlationId": fv.correlation_id,
        }
        if tops is not None:
            doc["contributions"] = tops[k]
        plan.out[i] = doc
        if probation is not None:
            probation.add(alarm)


def shadow_docs(
    dev: DeviceState, plan: Plan, g: Group, overrides: dict[str, float], now: int, run: ShadowRun | None
) -> list[dict[str, Any]]:
    """The shadow group's Score documents (own sequence); pairs with serving scores count into ``run``."""
    assert g.scores is not None
    meta, values, seqs = g.model.meta, g.scores.tolist(), dev.shadow_seq
    docs = []
    for k, i in enumerate(g.rows):
        fv = plan.fvs[i]
        device, value = fv.device, values[k]
        threshold = overrides.get(device, meta.threshold)
        over = value > threshold
        alarm = dev.alarm(device, meta, over)
        seq = seqs[device] = seqs.get(device, 0) + 1
        docs.append(score_doc(fv, meta, value, threshold, alarm, over, now, seq))
        serving = plan.out[i]
        if run is not None and isinstance(serving, dict):
            run.add(bool(serving["isAnomaly"]), alarm)
    if run is not None:
        run.scored += len(docs)
    return docs
