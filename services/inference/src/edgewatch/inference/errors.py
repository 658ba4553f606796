"""Errors of edgewatch-inference.

Hierarchy::

    InferenceError                         base of the service's errors (an EdgeXError: carries a kind)
      ModelValidationError  (400)          a model failed to load, or its golden vector disagrees; names the model
      ModelNotFoundError    (404)          no such model/version in the registry, or nothing to roll back to
      FeatureMismatchError  (400)          a FeatureVector's names differ from the model's input names
      NoModelError          (503)          no model serves the device and auto-fit is off
      ShadowConflictError   (409)          a shadow cannot start, or fails its promotion criteria; names why
"""

from __future__ import annotations

from edgewatch.common.contracts.errors import EdgeXError, ErrorKind

__all__ = [
    "FeatureMismatchError",
    "InferenceError",
    "ModelNotFoundError",
    "ModelValidationError",
    "NoModelError",
    "ShadowConflictError",
]


class InferenceError(EdgeXError):
    """Base error of edgewatch-inference."""


class ModelValidationError(InferenceError):
    """A model could not be loaded or failed its golden-vector check (the serving model is kept)."""

    def __init__(self, name: str, version: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"model {name}/{version} rejected: {reason}", kind=ErrorKind.CONTRACT_INVALID, field=field)
        self.name = name
        self.version = version
        self.reason = reason


class ModelNotFoundError(InferenceError):
    """The named model is not in the registry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind=ErrorKind.ENTITY_DOES_NOT_EXIST)


class FeatureMismatchError(InferenceError):
    """A FeatureVector's names do not match the serving model's declared inputs."""

    def __init__(self, device: str, model: str, expected: list[str], got: list[str]) -> None:
        missing = [n for n in expected if n not in got]
        extra = [n for n in got if n not in expected]
        detail = f"missing {missing}, unexpected {extra}" if missing or extra else "same names in another order"
        super().__init__(
            f"device {device}: feature names do not match model {model} ({detail})",
            kind=ErrorKind.CONTRACT_INVALID,
            field="names",
        )
        self.device = device
        self.model = model


class NoModelError(InferenceError):
    """No model serves the device (and auto-fit is disabled)."""

    def __init__(self, device: str) -> None:
        super().__init__(f"device {device}: no active model and AutoFit is off", kind=ErrorKind.SERVICE_UNAVAILABLE)
        self.device = device


class ShadowConflictError(InferenceError):
    """A shadow model cannot start in this slot, or may not be promoted yet (the reasons name the criteria)."""

    def __init__(self, slot: str, reasons: list[str]) -> None:
        super().__init__(f"slot {slot}: " + "; ".join(reasons), kind=ErrorKind.STATUS_CONFLICT)
        self.slot = slot
        self.reasons = reasons
