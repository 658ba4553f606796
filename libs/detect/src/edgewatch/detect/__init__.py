"""Anomaly detectors for edgewatch: the numpy-only serving runtime, and (with the ``train`` extra) training,
threshold calibration, ONNX export, INT8 quantisation and SKAB evaluation (``edgewatch.detect.cli``)."""

from __future__ import annotations

from edgewatch.detect.runtime import Persistence, WindowBuffer, WindowBuffers, over_threshold, persist

__all__ = ["Persistence", "WindowBuffer", "WindowBuffers", "over_threshold", "persist"]
