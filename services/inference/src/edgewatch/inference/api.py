"""REST routes of edgewatch-inference: model registry, activation/rollback, threshold overrides."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from edgewatch.common.contracts.base import API_VERSION
from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError
from edgewatch.common.contracts.limits import check_json_depth, check_size
from edgewatch.common.contracts.yamlcompat import validation_text
from edgewatch.common.service.http import API_PREFIX
from edgewatch.common.service.settings import ServiceSection
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.inference.baseline import build_standardized_distance, golden_input, reference_score
from edgewatch.inference.engine import InferenceEngine
from edgewatch.inference.models import (
    MAX_WINDOW,
    Calibration,
    FeatureNames,
    GoldenVector,
    ModelMeta,
    PersistenceSpec,
    RegistryName,
    meta_summary,
)
from edgewatch.inference.session import CPU, LoadedModel, load_model

__all__ = [
    "ActivateRequest",
    "BaselineRequest",
    "RollbackRequest",
    "ThresholdRequest",
    "UploadLimits",
    "UploadRequest",
    "parse_upload",
    "router",
    "threshold_router",
]


class _Req(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", alias_generator=to_camel)

    api_version: str = API_VERSION


class UploadRequest(_Req):
    """A model file (base64) with its metadata; validated before it is stored or served."""

    name: RegistryName
    version: RegistryName
    input_names: FeatureNames
    threshold: float
    golden: GoldenVector
    sha256: str = ""
    window: int = Field(1, ge=1, le=MAX_WINDOW, description="W > 1: the model scores [N, W, F] windows")
    algorithm: str = Field("", max_length=64)
    threshold_method: Literal["quantile", "pot", "fixed"] = "fixed"
    calibration: Calibration | None = None
    persistence: PersistenceSpec = Field(default_factory=PersistenceSpec)
    quantized: bool = False
    golden_set: list[GoldenVector] = Field(default_factory=list, max_length=64)
    model: str = Field(min_length=1, description="The .onnx file, base64")
    activate: bool = True
    shadow: bool = Field(False, description="Score beside the slot's serving model instead of serving (see /shadow)")
    device: str = Field("", description="Serve only this device (empty = every device without its own model)")


class BaselineRequest(_Req):
    """Build the standardised-distance model in code from configured mean/std."""

    name: RegistryName
    version: RegistryName
    input_names: FeatureNames
    mean: list[float] = Field(min_length=1)
    std: list[float] = Field(min_length=1)
    threshold: float = Field(gt=0)
    activate: bool = True
    device: str = ""


class ActivateRequest(_Req):
    """Switch a slot to a stored model."""

    name: RegistryName
    version: RegistryName
    device: str = ""


class RollbackRequest(_Req):
    """Serve a slot's previous model again."""

    device: str = ""


class ThresholdRequest(_Req):
    """A device's threshold override."""

    threshold: float = Field(gt=0)


def _ok(status: int = 200, **body: Any) -> JSONResponse:
    return JSONResponse({"apiVersion": API_VERSION, "statusCode": status, **body}, status_code=status)


def _loaded(m: LoadedModel | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        **meta_summary(m.meta),
        "providers": m.providers,  # what ORT runs the session on (get_providers)
        "requestedProviders": list(m.requested),
        "providerOptions": m.provider_options,  # what ORT reports it applied (get_provider_options)
        "cpuFallback": m.cpu_fallback,
    }


@dataclass(frozen=True)
class UploadLimits:
    """Bounds of one model upload: the model's bytes, its graph's nodes, the JSON body's nesting."""

    max_bytes: int
    max_nodes: int
    max_depth: int


def parse_upload(body: bytes, limits: UploadLimits) -> tuple[UploadRequest, ModelMeta, bytes]:
    """Parse and check a model upload in a parse worker: the request, then the model's size and graph, then a
    trial load with its golden vector. The request comes back without its base64 model.

    Raises:
        StructureLimitError: the body nests too deep, or the graph is too large (400).
        SizeLimitError: the model is over Inference.MaxModelSize (413).
        ContractInvalidError: not an UploadRequest, or the model is not base64 (400).
        ModelValidationError: the model fails a graph check, does not load, or fails its golden vector (400).
    """
    check_json_depth(body, limits.max_depth)
    try:
        req = UploadRequest.model_validate_json(body)
    except ValidationError as e:
        raise ContractInvalidError(validation_text(e), field="body") from None
    try:
        data = base64.b64decode(req.model, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ContractInvalidError(f"model: not base64: {e}", field="model") from e
    check_size(len(data), limits.max_bytes, "model", "Inference.MaxModelSize")
    meta = ModelMeta(
        name=req.name,
        version=req.version,
        sha256=req.sha256,
        input_names=req.input_names,
        threshold=req.threshold,
        golden=req.golden,
        created=time.time_ns(),
        window=req.window,
        algorithm=req.algorithm,
        threshold_method=req.threshold_method,
        calibration=req.calibration,
        persistence=req.persistence,
        quantized=req.quantized,
        golden_set=req.golden_set,
    )
    from edgewatch.inference.modelcheck import check_graph  # onnx: only where a model is checked (the worker)

    check_graph(meta.name, meta.version, data, limits.max_nodes)
    # The trial load: a model ONNX Runtime chokes on, or whose input does not match, fails here, in the worker.
    # On CPU whatever the preference list says: the checks do not depend on the provider, and a TensorRT engine
    # build would take the worker's whole time budget (the engine's real load checks the golden vectors again).
    load_model(meta, data, [CPU])
    return req.model_copy(update={"model": ""}), meta, data


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": UploadRequest.model_json_schema(by_alias=True)}},
    }
}


def router(engine: InferenceEngine, workers: ParseWorkers, service: Callable[[], ServiceSection]) -> APIRouter:
    """Routes bound to one engine; uploads are parsed and checked in a parse worker."""
    r = APIRouter(prefix=f"{API_PREFIX}/model")

    @r.get("")
    async def list_models() -> JSONResponse:
        models = [meta_summary(m) for m in engine.registry.list()]
        return _ok(totalCount=len(models), models=models)

    @r.get("/active")
    async def active() -> JSONResponse:
        slots = [{"slot": k, "current": _loaded(c), "previous": _loaded(p)} for k, (c, p) in engine.slots().items()]
        shadow = engine.shadow_status()
        return _ok(
            slots=slots,
            baselineProgress=engine.baseline_progress(),
            thresholds=engine.thresholds(),
            shadows=shadow["shadows"],
            probations=shadow["probations"],
        )

    @r.post("", openapi_extra=UPLOAD_BODY)
    async def upload(request: Request) -> JSONResponse:
        cfg = engine.cfg
        try:
            req, meta, data = await workers.run(
                parse_upload,
                await request.body(),
                UploadLimits(cfg.max_model_size * 1024, cfg.max_model_nodes, service().max_document_depth),
                what="model upload",
            )
        except EdgeXError:
            engine.rejected_models.inc()
            raise
        stored = await engine.upload(meta, data, activate=req.activate, device=req.device, shadow=req.shadow)
        return _ok(201, model=meta_summary(stored))

    @r.post("/baseline")
    async def baseline(req: BaselineRequest) -> JSONResponse:
        n = len(req.input_names)
        if len(req.mean) != n or len(req.std) != n:
            field = "mean" if len(req.mean) != n else "std"
            raise ContractInvalidError(f"{field}: needs {n} values (one per input name)", field=field)
        mean, std = np.asarray(req.mean, dtype=np.float64), np.asarray(req.std, dtype=np.float64)
        if not (std > 0).all():
            raise ContractInvalidError("std: every value must be > 0", field="std")
        probe = golden_input(mean, std)
        meta = ModelMeta(
            name=req.name,
            version=req.version,
            input_names=req.input_names,
            threshold=req.threshold,
            golden=GoldenVector(input=probe.tolist(), expected_score=reference_score(probe, mean, std)),
            kind="standardized-distance",
            created=time.time_ns(),
        )
        data = build_standardized_distance(req.input_names, mean, std)
        stored = await engine.upload(meta, data, activate=req.activate, device=req.device)
        return _ok(201, model=meta_summary(stored))

    @r.post("/activate")
    async def activate(req: ActivateRequest) -> JSONResponse:
        loaded = await engine.activate(req.name, req.version, req.device)
        return _ok(model=_loaded(loaded), slot=req.device or "*")

    @r.post("/rollback")
    async def rollback(req: RollbackRequest) -> JSONResponse:
        loaded = await engine.rollback(req.device)
        return _ok(model=_loaded(loaded), slot=req.device or "*")

    return r


def threshold_router(engine: InferenceEngine) -> APIRouter:
    """Per-device threshold overrides."""
    r = APIRouter(prefix=f"{API_PREFIX}/threshold")

    @r.get("")
    async def all_thresholds() -> JSONResponse:
        return _ok(thresholds=engine.thresholds())

    @r.put("/device/{device}")
    async def put(device: str, req: ThresholdRequest) -> JSONResponse:
        engine.set_threshold(device, req.threshold)
        return _ok(device=device, threshold=req.threshold)

    @r.delete("/device/{device}")
    async def delete(device: str) -> JSONResponse:
        engine.set_threshold(device, None)
        return _ok(device=device)

    return r
