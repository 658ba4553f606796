"""Model uploads are held to their limits before ONNX Runtime loads anything: size (413), graph size, external
data, non-standard operator sets and JSON depth (400); refusals are counted and the serving model stays."""

from __future__ import annotations

import base64

import numpy as np
import onnx
from onnx import TensorProto, helper

from edgewatch.inference.baseline import build_standardized_distance
from tests.inference.conftest import NAMES


def _body(model: bytes, version: str = "1") -> dict[str, object]:
    return {
        "name": "m",
        "version": version,
        "inputNames": NAMES,
        "threshold": 5.0,
        "golden": {"input": [1.1, 3.5, 42.0], "expectedScore": 1.0},
        "model": base64.b64encode(model).decode(),
    }


def _chain(n: int, domain: str = "") -> bytes:
    nodes = [helper.make_node("Identity", [f"x{i}"], [f"x{i + 1}"], domain=domain) for i in range(n)]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x0", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info(f"x{n}", TensorProto.FLOAT, [1, 3])],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets).SerializeToString()


def _external_data() -> bytes:
    model = onnx.load_from_string(build_standardized_distance(NAMES, np.ones(3), np.ones(3)))
    t = model.graph.initializer[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="../../../etc/passwd")
    return model.SerializeToString()


def _rejected(svc) -> float:  # type: ignore[no-untyped-def]
    reg = svc.host.metrics.registry
    return reg.get_sample_value("edgewatch_inference_models_rejected_total") or 0.0


async def test_model_over_max_model_size_is_413_before_parsing(make_settings, started) -> None:  # type: ignore[no-untyped-def]
    svc = await started(make_settings(auto_fit=False, max_model_size=64))
    big = _body(b"\x08" * 2 * 1024 * 1024)  # over the route limit: refused before the body is read
    r = await svc.http.post("/api/v3/model", json=big)
    assert r.status_code == 413 and "Inference.MaxModelSize" in r.json()["message"]
    just_over = _body(b"\x08" * 65 * 1024)  # body within the route limit, model over MaxModelSize
    r = await svc.http.post("/api/v3/model", json=just_over)
    assert r.status_code == 413 and "Inference.MaxModelSize" in r.json()["message"]


async def test_graph_checks_refuse_models_before_onnx_runtime_loads_them(make_settings, started) -> None:  # type: ignore[no-untyped-def]
    svc = await started(make_settings(auto_fit=False, max_model_nodes=50))
    cases = [
        (_chain(51), "Inference.MaxModelNodes"),
        (_chain(3, domain="com.evil"), "not standard ONNX"),
        (_external_data(), "external data"),
    ]
    for i, (model, text) in enumerate(cases):
        r = await svc.http.post("/api/v3/model", json=_body(model, str(i)))
        assert r.status_code == 400 and text in r.json()["message"], r.text
    assert _rejected(svc) == 3
    assert (await svc.http.get("/api/v3/model")).json()["totalCount"] == 0


async def test_model_upload_nested_too_deep_is_400(make_settings, started) -> None:  # type: ignore[no-untyped-def]
    svc = await started(make_settings(auto_fit=False))
    body = b'{"name": "m", "golden": ' + b"[" * 64 + b"]" * 64 + b"}"
    r = await svc.http.post("/api/v3/model", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "MaxDocumentDepth" in r.json()["message"]
