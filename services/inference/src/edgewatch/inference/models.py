"""The model registry on disk: ``<root>/<name>/<version>/{model.onnx, meta.json}`` and the activation state.

A model's metadata (``ModelMeta``) declares its input feature names, default threshold and a golden vector
with the expected score; the engine refuses to serve a model whose file hash or golden output disagrees.
Activations (which model serves which device, and the previous one for rollback) live in ``active.json``,
written atomically, so a restart serves the same models without refitting.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from edgewatch.inference.errors import ModelNotFoundError

__all__ = [
    "DEFAULT_SLOT",
    "MAX_WINDOW",
    "ActivationState",
    "Calibration",
    "FeatureNames",
    "GoldenVector",
    "ModelMeta",
    "ModelRef",
    "ModelRegistry",
    "PersistenceSpec",
    "RegistryName",
    "meta_summary",
    "safe_name",
    "sha256_hex",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DEFAULT_SLOT = "*"
MAX_WINDOW = 4096
"""Largest ``window`` a model may declare (vectors kept per device and model input rows of W x F floats)."""


def sha256_hex(data: bytes) -> str:
    """Lower-case hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def safe_name(text: str) -> str:
    """``text`` when it is a valid registry name, else a stable hash-based name (device names may be odd)."""
    return text if _NAME.match(text) and ".." not in text else "h" + hashlib.sha1(text.encode()).hexdigest()[:16]


def _registry_name(v: str) -> str:
    if not _NAME.match(v) or ".." in v:
        raise ValueError(f"{v!r} must match {_NAME.pattern} without '..'")
    return v


def _feature_names(v: list[str]) -> list[str]:
    if len(set(v)) != len(v) or any(not n for n in v):
        raise ValueError("input names must be non-empty and unique")
    return v


def _flat(v: Any) -> Any:
    """A windowed model's golden input may be given as [W][F] rows; stored flat, row-major."""
    if isinstance(v, list) and v and all(isinstance(row, list) for row in v):
        return [x for row in v for x in row]
    return v


RegistryName = Annotated[str, AfterValidator(_registry_name)]
FeatureNames = Annotated[list[str], Field(min_length=1), AfterValidator(_feature_names)]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class GoldenVector(_Model):
    """A probe input and the score the model must return for it."""

    input: Annotated[list[float], BeforeValidator(_flat)] = Field(
        min_length=1,
        description="Feature values in input-name order; a windowed model takes W x F values (flat, oldest row "
        "first, or as W rows of F)",
    )
    expected_score: float
    tolerance: float = Field(1e-3, gt=0, description="Allowed |got - expected| / max(1, |expected|)")


class PersistenceSpec(_Model):
    """The alarm state machine: raise after ``raise`` consecutive scores over threshold, clear after ``clear`` under."""

    raise_: int = Field(1, ge=1, le=10_000, alias="raise", description="Consecutive over-threshold scores to raise")
    clear: int = Field(1, ge=1, le=10_000, description="Consecutive under-threshold scores to clear")


class Calibration(BaseModel):
    """How the threshold was calibrated (stored and shown; other keys the trainer writes are kept as given)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    n: int | None = Field(None, ge=0, description="Calibration scores used")
    quantile: float | None = None
    factor: float | None = None
    score_mean: float | None = None
    score_std: float | None = None
    score_max: float | None = None


class ModelMeta(_Model):
    """Metadata stored next to every model file."""

    name: RegistryName = Field(description="Registry name: letters, digits, '.', '_', '-'")
    version: RegistryName = Field(description="Registry version (same character set as name)")
    sha256: str = Field("", description="sha256 of model.onnx (computed on upload when empty)")
    input_names: FeatureNames = Field(description="Feature names the model expects, in order")
    threshold: float = Field(description="Default anomaly threshold on the model's score")
    golden: GoldenVector
    kind: str = Field("external", description="standardized-distance for models built in code")
    auto_device: str = Field("", description="Device an auto-fitted baseline model belongs to")
    created: int = Field(0, ge=0, description="Creation time (ns)")
    window: int = Field(1, ge=1, le=MAX_WINDOW, description="W: the model scores the last W vectors [N, W, F]")
    algorithm: str = Field("", max_length=64, description="Detector family (informational)")
    threshold_method: Literal["quantile", "pot", "fixed"] = Field("fixed", description="How threshold was chosen")
    calibration: Calibration | None = None
    persistence: PersistenceSpec = Field(default_factory=PersistenceSpec)
    quantized: bool = Field(False, description="Weights quantised (e.g. int8)")
    golden_set: list[GoldenVector] = Field(
        default_factory=list, max_length=64, description="More golden vectors, checked like golden"
    )


class ModelRef(_Model):
    """Points at one stored model."""

    name: str
    version: str


class ActivationState(_Model):
    """Which model serves each slot (``*`` = every device without its own), and the one before it."""

    current: dict[str, ModelRef] = Field(default_factory=dict)
    previous: dict[str, ModelRef] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per-device overrides set over REST")


class ModelRegistry:
    """Files under one root directory; every write is atomic (write a temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _dir(self, name: str, version: str) -> Path:
        return self.root / safe_name(name) / safe_name(version)

    def save(self, meta: ModelMeta, model: bytes) -> ModelMeta:
        """Store a model and its metadata (sha256 filled in); overwrites the same name/version."""
        meta = meta.model_copy(update={"sha256": sha256_hex(model)})
        d = self._dir(meta.name, meta.version)
        d.mkdir(parents=True, exist_ok=True)
        _atomic_write(d / "model.onnx", model)
        _atomic_write(d / "meta.json", meta.model_dump_json(by_alias=True, indent=2).encode())
        return meta

    def load(self, name: str, version: str) -> tuple[ModelMeta, bytes]:
        """Metadata and model bytes.

        Raises:
            ModelNotFoundError: nothing stored under name/version.
        """
        d = self._dir(name, version)
        try:
            meta = ModelMeta.model_validate_json((d / "meta.json").read_bytes())
            return meta, (d / "model.onnx").read_bytes()
        except FileNotFoundError as e:
            raise ModelNotFoundError(f"model {name}/{version} is not in the registry") from e

    def list(self) -> list[ModelMeta]:
        """Every stored model's metadata, sorted by name then creation time."""
        out = []
        for meta_file in self.root.glob("*/*/meta.json"):
            try:
                out.append(ModelMeta.model_validate_json(meta_file.read_bytes()))
            except ValueError:
                continue
        return sorted(out, key=lambda m: (m.name, m.created, m.version))

    def read_state(self) -> ActivationState:
        """The persisted activation state (empty when none)."""
        try:
            return ActivationState.model_validate_json((self.root / "active.json").read_bytes())
        except (FileNotFoundError, ValueError):
            return ActivationState()

    def write_state(self, state: ActivationState) -> None:
        """Persist the activation state atomically."""
        _atomic_write(self.root / "active.json", state.model_dump_json(by_alias=True, indent=2).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def meta_summary(meta: ModelMeta) -> dict[str, Any]:
    """The JSON-able view of a model used in REST answers."""
    return json.loads(meta.model_dump_json(by_alias=True, exclude={"golden", "golden_set"}))  # type: ignore[no-any-return]
