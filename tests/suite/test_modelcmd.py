"""``edgewatch model push|list|shadow|promote|rollback|status`` against the real inference service over real HTTP
(uvicorn on a loopback port, a real nats-server); ``train|quantize|eval`` are forwarded or refused by name."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import uvicorn

from edgewatch.common.service.uvicornadapter import serve
from edgewatch.inference.app import build_app
from edgewatch.inference.baseline import build_standardized_distance, reference_score
from edgewatch.inference.config import InferenceSection, InferenceSettings
from edgewatch.suite.cli import main
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until

NAMES = ["a", "b"]
MEAN = np.array([0.0, 10.0])


def _model_dir(root: Path, version: str, std: list[float]) -> Path:
    d = root / f"m-{version}"
    d.mkdir()
    probe = np.array([1.0, 12.0])
    (d / "model.onnx").write_bytes(build_standardized_distance(NAMES, MEAN, np.asarray(std)))
    meta = {
        "name": "m",
        "version": version,
        "inputNames": NAMES,
        "threshold": 4.0,
        "golden": {"input": probe.tolist(), "expectedScore": reference_score(probe, MEAN, np.asarray(std))},
        "window": 1,
        "algorithm": "standardized-distance",
        "thresholdMethod": "quantile",
        "calibration": {"n": 200, "quantile": 0.995},
        "persistence": {"raise": 2, "clear": 3},
        "quantized": False,
        "created": 1,  # the registry's own field: not sent
    }
    (d / "meta.json").write_text(json.dumps(meta))
    return d


@pytest.fixture
async def inference_url(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[str]:
    settings = InferenceSettings(
        message_bus=bus_settings(nats_server), data_dir=str(tmp_path / "data"), inference=InferenceSection()
    )
    host = build_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(host.app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    async with host:
        task = asyncio.create_task(serve(server))
        await wait_until(lambda: server.started)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        await task


async def _cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_model_cli_pushes_lists_shadows_promotes_and_rolls_back_over_rest(
    inference_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", inference_url)
    assert await _cli("model", "push", str(_model_dir(tmp_path, "1", [1.0, 2.0])), *url) == 0
    assert await _cli("model", "push", str(_model_dir(tmp_path, "2", [1.0, 1.0])), "--shadow", *url) == 0
    assert "m/1 serving" in capsys.readouterr().out
    assert await _cli("model", "list", *url) == 0
    listed = capsys.readouterr().out
    assert "serving *" in listed and "shadow *" in listed and "standardized-distance" in listed
    assert await _cli("model", "promote", *url) == 1  # the default ShadowMinVectors (500) are not in yet
    assert "ShadowMinVectors 500" in capsys.readouterr().err
    assert await _cli("model", "promote", "--force", *url) == 0
    assert "m/2 serves slot *" in capsys.readouterr().out
    assert await _cli("model", "status", *url) == 0
    status = json.loads(capsys.readouterr().out)
    assert [e["event"] for e in status["history"]] == ["shadowStarted", "promoted"]
    assert status["history"][-1]["how"] == "forced" and status["probations"][0]["model"]["version"] == "2"
    assert await _cli("model", "rollback", *url) == 0
    assert "m/1 serves slot * again" in capsys.readouterr().out
    assert await _cli("model", "promote", "m", "2", *url) == 0  # activate a stored version by name
    assert await _cli("model", "push", str(tmp_path / "missing"), *url) == 2


def test_model_train_without_the_detect_package_says_what_is_missing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a gateway image without the training package: the import of its CLI fails as it would there
    monkeypatch.setitem(sys.modules, "edgewatch.detect.cli", None)
    assert main(["model", "train", "--epochs", "1"]) == 2
    assert "edgewatch.detect is not installed" in capsys.readouterr().err
    assert main(["model", "eval", "nasa"]) == 2
    assert "eval skab" in capsys.readouterr().err


def test_model_eval_cwru_and_skab_reach_their_packages_clis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,sampleRateHz\nx.mat,12000\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    args = ["--data", str(tmp_path), "--manifest", str(manifest), "--predictions", str(out)]
    assert main(["model", "eval", "cwru", *args]) == 2  # edgewatch.bearing's manifest check answered
    assert "rpm" in capsys.readouterr().err
    (tmp_path / "skab").mkdir()
    with pytest.raises(SystemExit):  # edgewatch.detect's parser: --predictions is required
        main(["model", "eval", "skab", "--data", str(tmp_path / "skab")])
    assert "--predictions" in capsys.readouterr().err
