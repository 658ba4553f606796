"""INT8: static QDQ quantisation with onnxruntime.quantization, calibrated on normal windows, threshold re-calibrated.

What is quantised: the weight-bearing operators (MatMul, Gemm, Conv: the front end's filter bank, PCA's
projections, the autoencoder's layers), with INT8 weights and UINT8 activations, per tensor, MinMax ranges.
The element-wise tail that turns features into a score (squares, sums, max, comparisons) stays float: it holds
no weights, and a quantised score would saturate at the largest *normal* score seen in calibration, so every
anomaly would score the same as the worst normal window and none would pass the threshold.

Calibration ranges: MinMax on normal windows alone would clip each activation at its normal range too, for the
same reason. The calibration set is therefore the normal windows plus the same windows with their deviation from
the training median stretched EXCURSION times: ranges cover anomalies up to that many times the normal spread,
at the cost of log2(EXCURSION) = 3 of the 8 bits. The threshold is then calibrated again on the quantised graph's
own scores of the (unstretched) normal windows, with the FP32 model's method and settings.

Graphs with nothing to quantise keep their FP32 graph (``int8_skip_reason``): one without a weight-bearing
operator (``zscore``: QDQ would only add nodes), and one whose parameters live in an ``ai.onnx.ml`` tree ensemble
(``iforest``: split thresholds are attributes QDQ cannot reach, so INT8 saves nothing, while quantising the
front end's features in front of it moves windows across split thresholds, and the threshold re-calibrated on
those scores moved F1 by 0.0108 on SKAB valve1). Such a model comes back with its FP32 bytes and threshold,
``quantized: false``, and ``calibration.int8`` saying why.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edgewatch.detect.calibrate import calibrate
from edgewatch.detect.graph import INPUT
from edgewatch.detect.model import TrainedModel, ort_scores, session

__all__ = ["int8_skip_reason", "quantize_model"]

F32 = npt.NDArray[np.float32]
EXCURSION = 8.0
QUANTIZED_OPS = ["MatMul", "Gemm", "Conv"]


class _Reader:
    """onnxruntime's CalibrationDataReader protocol: each batch holds normal windows and as many stretched ones.

    Mixed batches: a gated graph (``hybrid``) runs its second stage only on the windows through the gate, and a
    batch of normal windows alone may open it for none, leaving that batch's AE activations empty. MinMax takes
    the range over all batches, so the batching changes no other graph's ranges.
    """

    def __init__(self, normal: F32, stretched: F32, half: int = 32) -> None:
        self._items = [
            {INPUT: np.concatenate([normal[i : i + half], stretched[i : i + half]])}
            for i in range(0, normal.shape[0], half)
        ]
        self._i = 0

    def get_next(self) -> dict[str, F32] | None:
        if self._i >= len(self._items):
            return None
        self._i += 1
        return self._items[self._i - 1]

    def rewind(self) -> None:
        self._i = 0


def int8_skip_reason(onnx_bytes: bytes) -> str | None:
    """Why this graph keeps FP32 (see the module doc), or None when QDQ has weights to quantise."""
    import onnx

    nodes = onnx.load_from_string(onnx_bytes).graph.node
    ml = sorted({n.op_type for n in nodes if n.domain == "ai.onnx.ml"})
    if ml:
        return (
            f"kept FP32: the parameters are in {', '.join(ml)} (ai.onnx.ml attributes, not quantisable by QDQ); "
            "quantising the features in front of it only moves split decisions"
        )
    if not any(n.op_type in QUANTIZED_OPS for n in nodes):
        return f"kept FP32: no weight-bearing operator ({', '.join(QUANTIZED_OPS)}) to quantise"
    return None


def quantize_model(model: TrainedModel, calibration_windows: F32) -> TrainedModel:
    """The INT8 (QDQ) version of ``model``, with its threshold re-calibrated on ``calibration_windows``; a graph
    with nothing to quantise comes back as it is (FP32 bytes and threshold, ``quantized: false``)."""
    reason = int8_skip_reason(model.onnx)
    if reason is not None:
        kept: dict[str, Any] = copy.deepcopy(model.meta)
        cal = dict(kept.get("calibration") or {})
        kept["calibration"] = cal | {"int8": reason, "fp32Size": len(model.onnx), "int8Size": len(model.onnx)}
        kept["quantized"] = False
        return TrainedModel(model.onnx, kept, model.detector)
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    ort.set_default_logger_severity(3)  # the pre-processing optimiser warns for every initializer it folds away

    center = np.median(calibration_windows.reshape(-1, calibration_windows.shape[-1]), axis=0)
    stretched = (center + EXCURSION * (calibration_windows - center)).astype(np.float32)
    reader = _Reader(calibration_windows, stretched)
    with tempfile.TemporaryDirectory() as tmp:
        src, pre, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(model.onnx)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(dst),
            reader,
            op_types_to_quantize=QUANTIZED_OPS,
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            per_channel=False,
        )
        data = dst.read_bytes()
    scores = ort_scores(session(data), calibration_windows)
    meta: dict[str, Any] = copy.deepcopy(model.meta)
    method = str(meta.get("thresholdMethod", "quantile"))
    if method == "fixed":
        threshold, summary = float(meta["threshold"]), dict(meta.get("calibration") or {})
    elif (meta.get("calibration") or {}).get("scores") == "cv":
        # cross-validated FP32 calibration: carry it over scaled by how quantisation moved the training scores'
        # quantile (refitting the folds and quantising each would cost CV_FOLDS quantisations per model)
        cal = dict(meta["calibration"])
        q = float(cal.get("quantile", 0.99))
        fp32 = ort_scores(session(model.onnx), calibration_windows)
        ratio = float(np.quantile(scores, q)) / max(float(np.quantile(fp32, q)), 1e-12)
        threshold, summary = float(meta["threshold"]) * ratio, cal | {"int8Ratio": ratio}
    else:
        cal = meta.get("calibration") or {}
        threshold, summary = calibrate(
            scores, method, quantile=float(cal.get("quantile", 0.99)), factor=float(cal.get("factor", 1.25))
        )
        summary["scores"] = "in-sample"
    golden = calibration_windows[-1:]
    meta |= {
        "threshold": threshold,
        "calibration": summary
        | {k: v for k, v in (meta.get("calibration") or {}).items() if k in ("rows", "detector")}
        | {"fp32Size": len(model.onnx), "int8Size": len(data)},
        "quantized": True,
        "version": f"{meta['version']}-int8",
        "golden": {
            "input": [float(v) for v in golden.reshape(-1)],
            "expectedScore": float(scores[-1]),
            "tolerance": 0.05,
        },
    }
    return TrainedModel(data, meta)
