"""ONNX Runtime sessions: execution-provider choice, quiet thread settings, and golden-vector validation.

Sessions use one intra-op thread with spinning off (``session.intra_op.allow_spinning=0``): ORT's pool
spin-waits by default, which burns whole cores for tiny models at sensor cadence (ANCHORS.md section 3.1).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from edgewatch.inference.errors import ModelValidationError
from edgewatch.inference.models import ModelMeta, sha256_hex

__all__ = ["CPU", "DEFAULT_PROVIDERS", "LoadedModel", "load_model", "select_providers", "session_options"]

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
DEFAULT_PROVIDERS = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "OpenVINOExecutionProvider", CPU]


def select_providers(preferred: Sequence[str], available: Sequence[str]) -> list[str]:
    """``preferred`` in order, keeping only the available ones, with the CPU provider always last."""
    chosen = [p for p in dict.fromkeys(preferred) if p in available and p != CPU]
    return [*chosen, CPU]


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

    def run(self, x: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        """Score rows ``x`` [B, N]: scores [B] and, when the model has them, contributions [B, N]."""
        outs = self.session.run(self.output_names, {self.input_name: x})
        scores = np.asarray(outs[0], dtype=np.float32).reshape(x.shape[0])
        contrib = np.asarray(outs[1], dtype=np.float32).reshape(x.shape) if len(outs) > 1 else None
        return scores, contrib


def load_model(meta: ModelMeta, model: bytes, providers: Sequence[str], intra_op_threads: int = 1) -> LoadedModel:
    """Create a session and check it against ``meta``: file hash, input width, and the golden vector.

    Raises:
        ModelValidationError: the bytes are not a loadable model, or any check fails.
    """
    if meta.sha256 and meta.sha256 != sha256_hex(model):
        raise ModelValidationError(meta.name, meta.version, "model file sha256 differs from metadata", field="sha256")
    try:
        sess = _session(model, providers, intra_op_threads)
    except Exception as e:
        raise ModelValidationError(meta.name, meta.version, f"ONNX Runtime cannot load it: {e}", field="model") from e
    inputs = sess.get_inputs()
    if len(inputs) != 1:
        raise ModelValidationError(meta.name, meta.version, f"expects 1 input, has {len(inputs)}", field="model")
    width = inputs[0].shape[-1] if inputs[0].shape else None
    n = len(meta.input_names)
    if isinstance(width, int) and width != n:
        raise ModelValidationError(
            meta.name, meta.version, f"input width {width} != {n} declared input names", field="inputNames"
        )
    outputs = [o.name for o in sess.get_outputs()]
    has_contrib = len(outputs) > 1 and list(sess.get_outputs()[1].shape or [])[-1:] == [n]
    loaded = LoadedModel(
        meta, sess, list(sess.get_providers()), inputs[0].name, outputs[:2] if has_contrib else outputs[:1]
    )
    _check_golden(loaded)
    return loaded


def _session(model: bytes, providers: Sequence[str], threads: int) -> ort.InferenceSession:
    chosen = select_providers(providers, ort.get_available_providers())
    try:
        return ort.InferenceSession(model, session_options(threads), providers=chosen)
    except Exception as e:
        if chosen == [CPU]:
            raise
        # A provider can be "available" yet fail to initialise (driver or library missing): fall back to CPU.
        log.warning("execution providers failed; falling back to CPU", extra={"providers": chosen, "error": str(e)})
        return ort.InferenceSession(model, session_options(threads), providers=[CPU])


def _check_golden(m: LoadedModel) -> None:
    g = m.meta.golden
    if len(g.input) != len(m.meta.input_names):
        raise ModelValidationError(
            m.meta.name, m.meta.version, "golden input length differs from input names", field="golden.input"
        )
    try:
        got = float(m.run(np.asarray(g.input, dtype=np.float32).reshape(1, -1))[0][0])
    except Exception as e:
        raise ModelValidationError(m.meta.name, m.meta.version, f"golden run failed: {e}", field="model") from e
    if not np.isfinite(got) or abs(got - g.expected_score) > g.tolerance * max(1.0, abs(g.expected_score)):
        raise ModelValidationError(
            m.meta.name,
            m.meta.version,
            f"golden vector scored {got:.6g}, expected {g.expected_score:.6g} (tolerance {g.tolerance:g})",
            field="golden.expectedScore",
        )
