"""Sessions: provider preference falls back to CPU; loading checks hash, width and the golden vector."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from edgewatch.inference.baseline import build_standardized_distance, golden_input, reference_score
from edgewatch.inference.errors import ModelValidationError
from edgewatch.inference.models import GoldenVector, ModelMeta, sha256_hex
from edgewatch.inference.session import CPU, DEFAULT_PROVIDERS, load_model, select_providers

NAMES = ["a", "b"]
MEAN = np.array([0.0, 10.0])
STD = np.array([1.0, 2.0])
MODEL = build_standardized_distance(NAMES, MEAN, STD)


def _meta(**over: object) -> ModelMeta:
    probe = golden_input(MEAN, STD)
    base: dict[str, object] = {
        "name": "m",
        "version": "1",
        "input_names": NAMES,
        "threshold": 9.0,
        "golden": GoldenVector(input=probe.tolist(), expected_score=reference_score(probe, MEAN, STD)),
    }
    base.update(over)
    return ModelMeta.model_validate(base)


@pytest.mark.parametrize(
    ("preferred", "available", "expected"),
    [
        (DEFAULT_PROVIDERS, ["CPUExecutionProvider"], [CPU]),
        (DEFAULT_PROVIDERS, ["CUDAExecutionProvider", CPU], ["CUDAExecutionProvider", CPU]),
        (
            DEFAULT_PROVIDERS,
            ["OpenVINOExecutionProvider", "TensorrtExecutionProvider", "CUDAExecutionProvider", CPU],
            ["TensorrtExecutionProvider", "CUDAExecutionProvider", "OpenVINOExecutionProvider", CPU],
        ),
        ([CPU, "CUDAExecutionProvider"], ["CUDAExecutionProvider", CPU], ["CUDAExecutionProvider", CPU]),
        ([], [CPU], [CPU]),
    ],
)
def test_select_providers_keeps_preference_order_of_available_ones_and_ends_with_cpu(
    preferred: list[str], available: list[str], expected: list[str]
) -> None:
    assert select_providers(preferred, available) == expected


def test_load_model_preferring_absent_gpu_providers_runs_on_cpu() -> None:
    available = ort.get_available_providers()
    absent = [p for p in DEFAULT_PROVIDERS if p not in available] + ["NoSuchExecutionProvider"]
    m = load_model(_meta(), MODEL, absent)
    assert m.providers == [CPU]
    scores, contrib = m.run(np.array([[1.0, 14.0], [0.0, 10.0]], dtype=np.float32))
    assert scores.tolist() == pytest.approx([2.5, 0.0])
    assert contrib is not None and contrib.ravel().tolist() == pytest.approx([0.5, 2.0, 0.0, 0.0])


def test_load_model_sets_one_intra_op_thread_without_spinning() -> None:
    m = load_model(_meta(), MODEL, [CPU])
    opts = m.session.get_session_options()
    assert opts.intra_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.parametrize(
    ("meta_over", "data", "match"),
    [
        ({"golden": GoldenVector(input=[1.0, 14.0], expected_score=7.0)}, MODEL, "golden vector scored 2.5"),
        ({"golden": GoldenVector(input=[1.0], expected_score=1.0)}, MODEL, "golden input length"),
        ({"sha256": "0" * 64}, MODEL, "sha256"),
        ({}, b"not an onnx model", "cannot load"),
        ({"input_names": ["a", "b", "c"]}, MODEL, "input width 2 != 3"),
    ],
)
def test_load_model_rejects_models_that_fail_a_check(meta_over: dict[str, object], data: bytes, match: str) -> None:
    with pytest.raises(ModelValidationError, match=match):
        load_model(_meta(**meta_over), data, [CPU])


def test_load_model_accepts_matching_sha256() -> None:
    assert load_model(_meta(sha256=sha256_hex(MODEL)), MODEL, [CPU]).meta.sha256 == sha256_hex(MODEL)


def test_windowed_model_loads_and_scores_n_w_f_input() -> None:
    from tests.inference.windowed import windowed_distance

    data = windowed_distance(2, 3, [0.0, 10.0], [1.0, 2.0])
    rows = [[1.0, 14.0], [1.0, 14.0], [1.0, 14.0]]
    m = load_model(_meta(window=3, golden=GoldenVector(input=rows, expected_score=2.5)), data, [CPU])
    assert m.rank == 3 and m.meta.golden.input == [1.0, 14.0] * 3
    scores, _ = m.run(np.zeros((2, 3, 2), dtype=np.float32))
    assert scores.tolist() == pytest.approx([12.5, 12.5])


@pytest.mark.parametrize(
    ("window", "names", "match", "field"),
    [
        (1, ["a", "b"], r"input window 3 != 1 declared window \(input 'input': shape \['N', 3, 2\]", "window"),
        (4, ["a", "b"], r"input window 3 != 4 declared window \(input 'input'", "window"),
        (3, ["a", "b", "c"], r"input width 2 != 3 declared input names \(input 'input'", "inputNames"),
    ],
)
def test_windowed_model_whose_input_does_not_match_meta_is_rejected_naming_the_input(
    window: int, names: list[str], match: str, field: str
) -> None:
    from tests.inference.windowed import windowed_distance

    data = windowed_distance(2, 3, [0.0, 10.0], [1.0, 2.0])
    golden = GoldenVector(input=[0.0] * window * len(names), expected_score=0.0)
    with pytest.raises(ModelValidationError, match=match) as e:
        load_model(_meta(window=window, input_names=names, golden=golden), data, [CPU])
    assert e.value.field == field


def test_two_dimensional_model_declared_windowed_is_rejected_naming_the_input() -> None:
    golden = GoldenVector(input=[0.0] * 6, expected_score=0.0)
    with pytest.raises(ModelValidationError, match=r"input 'x' has shape \['batch', 2\]; window 3 and 2 input names"):
        load_model(_meta(window=3, golden=golden), MODEL, [CPU])


def test_provider_options_give_tensorrt_fp16_and_an_engine_cache_and_cuda_the_device_id() -> None:
    from edgewatch.inference.providers import CUDA, TENSORRT, ProviderConfig, provider_options

    cfg = ProviderConfig(device_id=1, trt_engine_cache_path="/data/trt", extra={CUDA: {"arena_extend_strategy": "1"}})
    trt, cuda, cpu = provider_options([TENSORRT, CUDA, CPU], cfg)
    assert trt == {
        "device_id": "1",
        "trt_fp16_enable": "True",
        "trt_engine_cache_enable": "True",
        "trt_timing_cache_enable": "True",
        "trt_engine_cache_path": "/data/trt",
        "trt_timing_cache_path": "/data/trt",
    }
    assert cuda == {"device_id": "1", "arena_extend_strategy": "1"} and cpu == {}
    off = provider_options([TENSORRT], ProviderConfig(trt_fp16=False, trt_engine_cache=False))
    assert off == [{"device_id": "0", "trt_fp16_enable": "False"}]


def test_loaded_model_reports_the_providers_and_options_ort_applied() -> None:
    from edgewatch.inference.config import InferenceSection
    from edgewatch.inference.providers import ProviderConfig

    section = InferenceSection.model_validate({"CudaDeviceId": 2, "TrtFp16": False, "TrtEngineCachePath": ""})
    pc = section.provider_config("/var/lib/edgewatch/trt-cache")
    assert pc == ProviderConfig(2, False, True, "/var/lib/edgewatch/trt-cache", {})
    m = load_model(_meta(), MODEL, DEFAULT_PROVIDERS, options=pc)
    available = [p for p in DEFAULT_PROVIDERS if p in ort.get_available_providers()]
    assert list(m.requested) == available and m.providers[-1] == CPU
    assert CPU in m.provider_options and not m.cpu_fallback
