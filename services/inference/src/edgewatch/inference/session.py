"""ONNX Runtime sessions: execution-provider choice, quiet thread settings, and golden-vector validation.

Sessions use one intra-op thread with spinning off (``session.intra_op.allow_spinning=0``): ORT's pool
spin-waits by default, which burns whole cores for tiny models at sensor cadence (ANCHORS.md section 3.1).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from edgewatch.inference.errors import ModelValidationError
from edgewatch.inference.models import GoldenVector, ModelMeta, sha256_hex
from edgewatch.inference.providers import CPU, DEFAULT_PROVIDERS, ProviderConfig, provider_options, select_providers

__all__ = [
    "CPU",
    "DEFAULT_PROVIDERS",
    "LoadedModel",
    "ProviderConfig",
    "load_model",
    "select_providers",
    "session_options",
]

log = logging.getLogger(__name__)


def session_options(intra_op_threads: int = 1) -> ort.SessionOptions:
    """Session options for small models at sensor cadence: few threads, no spin-waiting."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = intra_op_threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = 3
    return so


@dataclass(frozen=True)
class LoadedModel:
    """A validated model ready to score: its session, metadata and the providers ORT actually uses."""

    meta: ModelMeta
    session: ort.InferenceSession
    providers: list[str]
    input_name: str
    output_names: list[str]
    rank: int = 2
    requested: tuple[str, ...] = ()
    provider_options: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def cpu_fallback(self) -> bool:
        """A GPU/accelerator provider was asked for but the session runs on CPU only."""
        return self.providers == [CPU] and any(p != CPU for p in self.requested)

    def run(self, x: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        """Score ``x`` ([B, F] or [B, W, F]): scores [B] and, when the model has them, contributions [B, F]."""
        if self.rank == 3 and x.ndim == 2:
            x = x[:, None, :]
        elif self.rank == 2 and x.ndim == 3:
            x = x.reshape(x.shape[0], -1)
        outs = self.session.run(self.output_names, {self.input_name: x})
        b = x.shape[0]
        scores = np.asarray(outs[0], dtype=np.float32).reshape(b)
        contrib = np.asarray(outs[1], dtype=np.float32).reshape(b, -1) if len(outs) > 1 else None
        return scores, contrib


def load_model(
    meta: ModelMeta,
    model: bytes,
    providers: Sequence[str],
    intra_op_threads: int = 1,
    options: ProviderConfig | None = None,
) -> LoadedModel:
    """Create a session and check it against ``meta``: file hash, the input's type and shape, the golden vectors.

    Raises:
        ModelValidationError: the bytes are not a loadable model, or any check fails (the message names the input).
    """
    if meta.sha256 and meta.sha256 != sha256_hex(model):
        raise ModelValidationError(meta.name, meta.version, "model file sha256 differs from metadata", field="sha256")
    chosen = select_providers(providers, ort.get_available_providers())
    try:
        sess = _session(model, chosen, intra_op_threads, options or ProviderConfig())
    except Exception as e:
        raise ModelValidationError(meta.name, meta.version, f"ONNX Runtime cannot load it: {e}", field="model") from e
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        names = [i.name for i in inputs]
        raise ModelValidationError(
            meta.name, meta.version, f"expects 1 input, has {len(inputs)}: {names}", field="model"
        )
    rank = _check_input(meta, inputs[0])
    n = len(meta.input_names)
    outputs = [o.name for o in sess.get_outputs()]
    has_contrib = len(outputs) > 1 and list(sess.get_outputs()[1].shape or [])[-1:] == [n]
    loaded = LoadedModel(
        meta,
        sess,
        list(sess.get_providers()),
        inputs[0].name,
        outputs[:2] if has_contrib else outputs[:1],
        rank=rank,
        requested=tuple(chosen),
        provider_options={k: dict(v) for k, v in sess.get_provider_options().items()},
    )
    for i, g in enumerate([meta.golden, *meta.golden_set]):
        _check_golden(loaded, g, "golden" if i == 0 else f"goldenSet[{i - 1}]")
    return loaded


def _check_input(meta: ModelMeta, inp: ort.NodeArg) -> int:
    """The rank (2 or 3) of the model's input, after checking its type and shape against ``meta``."""
    w, n = meta.window, len(meta.input_names)
    shape = list(inp.shape or [])
    want = f"[N, {w}, {n}]" if w > 1 else f"[N, {n}] or [N, 1, {n}]"
    where = f"input {inp.name!r}"
    if inp.type != "tensor(float)":
        raise ModelValidationError(meta.name, meta.version, f"{where} is {inp.type}, expected float32", field="model")
    rank = len(shape)
    if rank != 3 if w > 1 else rank not in (2, 3):
        raise ModelValidationError(
            meta.name,
            meta.version,
            f"{where} has shape {shape}; window {w} and {n} input names need {want}",
            field="window",
        )
    expected = [("inputNames", n)] if rank == 2 else [("window", w), ("inputNames", n)]
    for got, (key, size) in zip(shape[1:], expected, strict=True):
        if isinstance(got, int) and got != size:
            what = "width" if key == "inputNames" else "window"
            decl = "declared input names" if key == "inputNames" else "declared window"
            raise ModelValidationError(
                meta.name,
                meta.version,
                f"input {what} {got} != {size} {decl} ({where}: shape {shape}, need {want})",
                field=key,
            )
    return len(shape)


def _session(model: bytes, chosen: list[str], threads: int, options: ProviderConfig) -> ort.InferenceSession:
    try:
        return ort.InferenceSession(
            model, session_options(threads), providers=chosen, provider_options=provider_options(chosen, options)
        )
    except Exception as e:
        if chosen == [CPU]:
            raise
        # A provider can be "available" yet fail to initialise (driver or library missing): fall back to CPU.
        log.warning("execution providers failed; falling back to CPU", extra={"providers": chosen, "error": str(e)})
        return ort.InferenceSession(model, session_options(threads), providers=[CPU])


def _check_golden(m: LoadedModel, g: GoldenVector, what: str) -> None:
    w, n = m.meta.window, len(m.meta.input_names)
    if len(g.input) != w * n:
        raise ModelValidationError(
            m.meta.name,
            m.meta.version,
            f"{what} input length {len(g.input)} differs from window {w} x {n} input names",
            field=f"{what}.input",
        )
    x = np.asarray(g.input, dtype=np.float32).reshape((1, w, n) if w > 1 else (1, n))
    try:
        got = float(m.run(x)[0][0])
    except Exception as e:
        raise ModelValidationError(m.meta.name, m.meta.version, f"{what} run failed: {e}", field="model") from e
    if not np.isfinite(got) or abs(got - g.expected_score) > g.tolerance * max(1.0, abs(g.expected_score)):
        raise ModelValidationError(
            m.meta.name,
            m.meta.version,
            f"{what} vector scored {got:.6g}, expected {g.expected_score:.6g} (tolerance {g.tolerance:g})",
            field=f"{what}.expectedScore",
        )
