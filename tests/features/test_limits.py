"""Feature configuration is bounded: window lengths (count, and time at a known sample rate) and band lists;
a PUT that once took quadratic time in its band list is refused at once; over-deep JSON is 400."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edgewatch.features.spec import MAX_BANDS, MAX_WINDOW_SAMPLES, FeatureConfig


def _waveform(**over: Any) -> dict[str, Any]:
    return {"waveforms": [{"resource": "Vib", "sampleRateHz": 1000.0, **over}], "scalar": None}


@pytest.mark.parametrize(
    ("over", "text"),
    [
        ({"window": {"basis": "count", "size": MAX_WINDOW_SAMPLES + 1}}, "more than"),
        ({"window": {"basis": "time", "size": 1e12}}, "more than"),
        ({"bands": [[i, i + 1] for i in range(MAX_BANDS + 1)]}, f"more than {MAX_BANDS}"),
    ],
)
def test_windows_and_band_lists_beyond_their_bounds_are_invalid(over: dict[str, Any], text: str) -> None:
    with pytest.raises(ValidationError, match=text):
        FeatureConfig.model_validate(_waveform(**over))


def test_largest_allowed_window_and_band_list_are_valid() -> None:
    FeatureConfig.model_validate(
        _waveform(window={"basis": "count", "size": MAX_WINDOW_SAMPLES}, bands=[[i, i + 1] for i in range(MAX_BANDS)])
    )


async def test_put_with_a_huge_band_list_is_400_at_once(make_settings, started) -> None:  # type: ignore[no-untyped-def]
    svc = await started(make_settings())
    body = _waveform(bands=[[i, i + 0.5] for i in range(30_000)])
    r = await svc.http.put("/api/v3/features/config/pump", json=body)
    assert r.status_code == 400 and "bands" in r.json()["message"]


async def test_put_nested_too_deep_is_400(make_settings, started) -> None:  # type: ignore[no-untyped-def]
    svc = await started(make_settings())
    body = b'{"waveforms": ' + b"[" * 40 + b"]" * 40 + b"}"
    r = await svc.http.put("/api/v3/features/config/pump", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "MaxDocumentDepth" in r.json()["message"]


async def test_bus_event_nested_too_deep_is_dead_lettered_as_a_limit(make_settings, started, collector, bus) -> None:  # type: ignore[no-untyped-def]
    from edgewatch.common.bus.envelope import encode_envelope, new_envelope
    from edgewatch.common.contracts import topics
    from tests.support.waiting import wait_until

    svc = await started(make_settings())
    dead = await collector(topics.dead_letter("edgewatch-features"))
    payload = b'{"apiVersion": "v3", "event": {"readings": ' + b"[" * 100 + b"]" * 100 + b"}}"
    data, headers = encode_envelope(new_envelope(payload), "nats")
    await bus.publish(topics.device_event("svc", "P", "pump", "t"), data, headers)
    await wait_until(lambda: dead, message="dead letter")
    assert dead[0].headers["Edgewatch-Reason"].startswith("limit:")
    reg = svc.host.metrics.registry
    assert reg.get_sample_value("edgewatch_limit_refusals_total", {"limit": "MaxDocumentDepth"}) == 1
