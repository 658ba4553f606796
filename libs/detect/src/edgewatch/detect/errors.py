"""Errors of edgewatch.detect.

DetectError
 ├── TrainingDataError   training data a detector refuses (missing, NaN or constant column), naming the column
 └── ModelFormatError    a model directory or meta.json that does not describe a servable detector
"""

from __future__ import annotations

__all__ = ["DetectError", "ModelFormatError", "TrainingDataError"]


class DetectError(Exception):
    """Base of every error this package raises."""


class TrainingDataError(DetectError, ValueError):
    """Training data that cannot be learned from; ``column`` names the offending column when there is one."""

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


class ModelFormatError(DetectError, ValueError):
    """A model directory (model.onnx + meta.json) that cannot be served."""
