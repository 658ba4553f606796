"""Event codec hot path: encode/decode of a 10-reading AddEventRequest and a 4096-sample Float32Array."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import numpy as np

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, decode_add_event, encode_add_event
from edgewatch.common.contracts.values import format_float, format_value, parse_array, parse_float
from edgewatch.common.contracts.valuetype import ValueType


def best_us(fn: Callable[[], object], repeat: int = 5, number: int = 200) -> float:
    """Best-of-``repeat`` mean time of ``fn`` in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def paired_us(
    a: Callable[[], object], b: Callable[[], object], repeat: int = 7, number: int = 5
) -> tuple[float, float]:
    """Best-of-``repeat`` times of ``a`` and ``b`` in microseconds, measured alternately so load shifts hit both."""
    best_a = best_b = float("inf")
    for _ in range(repeat):
        best_a = min(best_a, best_us(a, repeat=1, number=number))
        best_b = min(best_b, best_us(b, repeat=1, number=number))
    return best_a, best_b


def ten_reading_request() -> AddEventRequest:
    readings = [
        Reading.simple(
            "pump-1", "pump", f"r{i}", ValueType.FLOAT32 if i % 2 else ValueType.INT16, i * 1.25 if i % 2 else i
        )
        for i in range(10)
    ]
    return AddEventRequest.of(new_event("pump-1", "pump", "all", readings))


def main() -> None:
    req = ten_reading_request()
    body = req.to_json()
    cbor = encode_add_event(req, CONTENT_CBOR)
    plain = json.loads(body)

    encode, baseline_dumps = paired_us(
        req.to_json, lambda: json.dumps(plain, separators=(",", ":")).encode(), number=200
    )
    decode, baseline_loads = paired_us(lambda: AddEventRequest.from_json(body), lambda: json.loads(body), number=200)
    cbor_enc = best_us(lambda: encode_add_event(req, CONTENT_CBOR))
    cbor_dec = best_us(lambda: decode_add_event(cbor, CONTENT_CBOR))
    build = best_us(ten_reading_request)

    wave = (np.sin(np.arange(4096) / 7.0) * 3.7).astype(np.float32)
    text = format_value(ValueType.FLOAT32_ARRAY, wave)
    parts = text[1:-1].split(", ")
    # Baselines: the same strings produced/parsed one element at a time through the scalar functions.
    fmt_wave, fmt_loop = paired_us(
        lambda: format_value(ValueType.FLOAT32_ARRAY, wave),
        lambda: "[" + ", ".join([format_float(float(v), 32) for v in wave]) + "]",
    )
    parse_wave, parse_loop = paired_us(
        lambda: parse_array(ValueType.FLOAT32_ARRAY, text), lambda: [parse_float(p, 32) for p in parts]
    )

    print(f"10-reading event: encode {encode:.1f} us (stdlib json.dumps of the same dict {baseline_dumps:.1f} us)")
    print(f"10-reading event: decode {decode:.1f} us (stdlib json.loads alone {baseline_loads:.1f} us)")
    print(f"10-reading event: CBOR encode {cbor_enc:.1f} us, CBOR decode {cbor_dec:.1f} us, build {build:.1f} us")
    print(f"Float32Array[4096]: format {fmt_wave:.0f} us (per-element {fmt_loop:.0f} us)")
    print(f"Float32Array[4096]: parse {parse_wave:.0f} us (per-element {parse_loop:.0f} us)")
    print(f"RESULT event_encode_10_readings {encode:.1f} us (goal < 100)")
    print(f"RESULT event_decode_10_readings {decode:.1f} us (goal < 250)")
    print(f"RESULT event_encode_vs_stdlib_dumps {encode / baseline_dumps:.2f} ratio (goal < 3)")
    print(f"RESULT event_decode_vs_stdlib_loads {decode / baseline_loads:.2f} ratio (goal < 12)")
    print(f"RESULT float32_array_4096_format {fmt_wave:.0f} us (goal < 10000)")
    print(f"RESULT float32_array_4096_parse {parse_wave:.0f} us (goal < 3000)")
    print(f"RESULT float32_array_format_speedup_vs_per_element {fmt_loop / fmt_wave:.2f} ratio (goal > 1)")
    print(f"RESULT float32_array_parse_speedup_vs_per_element {parse_loop / parse_wave:.2f} ratio (goal > 2)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
