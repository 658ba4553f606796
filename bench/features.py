"""Feature windows/s through the features service's path vs a bare numpy floor, same 4096-sample windows, one run.

Service path (what edgewatch-features does per window): ``FeaturePipeline.block`` on float32 blocks of 1024
samples as they come out of Binary readings (append to the window buffer, timestamp policy, time + spectral
[+ envelope] features, ``FeatureVector`` construction) and ``encode_feature_vector`` (suite codec msgpack).

Floor: ``numpy.fft.rfft`` plus the same statistics computed directly on pre-cut float64 windows (the same
formulas: dot products, no ``**4``), band energies, centroid and dominant frequency; for the envelope variant
also the band-limited inverse FFT and the envelope's rfft. Nothing else: no buffering, no names, no messages.

Both sides run interleaved in REPEATS short rounds of CHUNK windows each (service, then floor, on the same
windows); the ratio is the median of the per-round floor/service time ratios, so a load burst on a shared
machine disturbs one round, not the result. Per-window times are the best round of each side. Times are
this thread's CPU time (``time.thread_time``), so time spent waiting for a core on a busy machine is not
counted; cache and memory-bandwidth interference still is.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from edgewatch.common.contracts.feature import encode_feature_vector
from edgewatch.features.bearing import BearingGeometry, fault_multipliers
from edgewatch.features.extractor import default_bands
from edgewatch.features.pipeline import FeaturePipeline
from edgewatch.features.spec import FeatureConfig
from edgewatch.features.store import ConfigStore

FS = 25600.0
N = 4096
WINDOWS = 400
BLOCK = 1024
REPEATS = 60
CHUNK = 100  # windows per side per round: short rounds keep both sides under the same machine load
SHAFT_HZ = 29.95
ENV_BAND = (2000.0, 5000.0)
T0 = 1_700_000_000_000_000_000
CLOCK = time.thread_time  # CPU time of this thread: time spent descheduled on a shared machine does not count


def signal(seed: int = 0) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A bearing-like 25.6 kHz accelerometer signal: shaft tones, a 3 kHz resonance rung at BPFO, noise."""
    rng = np.random.default_rng(seed)
    n = WINDOWS * N
    t = np.arange(n) / FS
    bpfo = fault_multipliers(BearingGeometry(9, 0.3126, 1.537))[0] * SHAFT_HZ
    impacts = np.zeros(n)
    impacts[(np.arange(0, t[-1], 1 / bpfo) * FS).astype(int)] = 1.0
    ring = np.exp(-t[:256] * 900) * np.sin(2 * np.pi * 3000 * t[:256])
    x = np.convolve(impacts, ring)[:n] + 0.3 * np.sin(2 * np.pi * SHAFT_HZ * t) + 0.1 * rng.standard_normal(n)
    return x.astype(np.float32)


def service_config(envelope: bool) -> FeatureConfig:
    wave: dict[str, Any] = {"resource": "acc", "sampleRateHz": FS, "window": {"basis": "count", "size": N}}
    if envelope:
        wave["envelope"] = {
            "bandHz": list(ENV_BAND),
            "bearing": {"balls": 9, "ballDiameter": 0.3126, "pitchDiameter": 1.537},
            "shaft": {"hz": SHAFT_HZ},
        }
    return FeatureConfig.model_validate({"waveforms": [wave], "scalar": None})


def new_pipeline(envelope: bool) -> FeaturePipeline:
    store = ConfigStore()
    store.put("bench", service_config(envelope))
    return FeaturePipeline(store)


def run_service(p: FeaturePipeline, x: np.ndarray[Any, Any]) -> tuple[float, int]:
    """Seconds for all windows of ``x`` through the service path, and the number of vectors encoded."""
    period = 1e9 / FS
    count = 0
    start = CLOCK()
    for k in range(0, x.shape[0], BLOCK):
        for fv in p.block("bench", "accel", "acc", T0 + round(k * period), x[k : k + BLOCK], None):
            encode_feature_vector(fv)
            count += 1
    return CLOCK() - start, count


def floor_kernel(envelope: bool) -> Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    """The bare numpy computation of the same features for one window."""
    half = N // 2 + 1
    df = FS / N
    w = np.full(half, 2.0 / (N * N))
    w[0] = w[-1] = 1.0 / (N * N)
    freqs = np.arange(half) * df
    bands = default_bands(FS)
    lo = np.array([math.ceil(a / df) for a, _ in bands])
    hi = np.array([min(half, math.ceil(b / df)) for _, b in bands])
    k0, k1 = math.ceil(ENV_BAND[0] / df), math.ceil(ENV_BAND[1] / df)
    m = 2 * (k1 - k0)
    mult = np.array(fault_multipliers(BearingGeometry(9, 0.3126, 1.537)))
    lines = np.rint(np.outer(mult * SHAFT_HZ, np.arange(1, 4)).ravel() / df).astype(int)

    def kernel(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        n = x.shape[0]
        mean = x.mean()
        d = x - mean
        d2 = d * d
        m2 = d2.mean()
        m3 = np.dot(d2, d) / n
        m4 = np.dot(d2, d2) / n
        rms = math.sqrt(np.dot(x, x) / n)
        hi_, lo_ = x.max(), x.min()
        peak = max(hi_, -lo_)
        a = np.abs(x)
        mean_abs = a.mean()
        mean_sqrt = np.sqrt(a).mean()
        spec = np.fft.rfft(x)
        p = (spec.real**2 + spec.imag**2) * w
        cs = np.concatenate(([0.0], np.cumsum(p)))
        energies = cs[hi] - cs[lo]
        centroid = np.dot(freqs[1:], p[1:]) / p[1:].sum()
        dominant = (np.argmax(p[1:]) + 1) * df
        stats = [
            mean,
            math.sqrt(m2),
            rms,
            peak,
            hi_ - lo_,
            peak / rms,
            m4 / (m2 * m2),
            m3 / m2**1.5,
            rms / mean_abs,
            peak / mean_abs,
            peak / mean_sqrt**2,
            centroid,
            dominant,
        ]
        if envelope:
            buf = np.zeros(m, dtype=np.complex128)
            buf[: k1 - k0] = spec[k0:k1]
            z = np.fft.ifft(buf)
            e = z.real**2 + z.imag**2
            es = np.abs(np.fft.rfft(e - e.mean()))
            stats += [*es[lines], float(np.argmax(es[1:]) + 1) * df]
        return np.concatenate((energies, stats))

    return kernel


def run_floor(windows: np.ndarray[Any, Any], envelope: bool) -> float:
    kernel = floor_kernel(envelope)
    start = CLOCK()
    for x in windows:
        kernel(x)
    return CLOCK() - start


def compare(x: np.ndarray[Any, Any], envelope: bool) -> tuple[float, float, float]:
    """Seconds per window (best round of each side) and the median of the per-round floor/service ratios."""
    windows = x.astype(np.float64).reshape(-1, N)
    best_s = best_f = math.inf
    ratios = []
    for r in range(REPEATS):
        part = slice((r % (WINDOWS // CHUNK)) * CHUNK, (r % (WINDOWS // CHUNK) + 1) * CHUNK)
        xs = x[part.start * N : part.stop * N]
        p = new_pipeline(envelope)
        gc.collect()
        gc.disable()
        try:
            secs, count = run_service(p, xs)
            floor = run_floor(windows[part], envelope)
        finally:
            gc.enable()
        assert count == CHUNK, count
        best_s, best_f = min(best_s, secs / count), min(best_f, floor / CHUNK)
        ratios.append(floor / secs)
    return best_s, best_f, float(np.median(ratios))


def main() -> None:
    x = signal()
    plain_s, plain_f, plain_ratio = compare(x, envelope=False)
    env_s, env_f, env_ratio = compare(x, envelope=True)
    print(
        f"window: {N} samples at {FS:g} Hz ({N / FS * 1e3:.0f} ms, df {FS / N:g} Hz), {WINDOWS} windows, "
        f"blocks of {BLOCK} float32, {REPEATS} interleaved rounds of {CHUNK} windows per side (thread CPU time)"
    )
    print(
        f"time+spectrum:          service {plain_s * 1e6:7.1f} us/window ({1 / plain_s:8.0f}/s)   "
        f"floor {plain_f * 1e6:7.1f} us/window ({1 / plain_f:8.0f}/s)"
    )
    print(
        f"time+spectrum+envelope: service {env_s * 1e6:7.1f} us/window ({1 / env_s:8.0f}/s)   "
        f"floor {env_f * 1e6:7.1f} us/window ({1 / env_f:8.0f}/s)"
    )
    overlap = 0.5
    per_s = FS / (N * (1 - overlap))
    cores = per_s * env_s
    print(
        f"one 25.6 kHz channel, {overlap:.0%} overlap: {per_s:g} windows/s x {env_s * 1e6:.1f} us "
        f"(full set incl. envelope) = {cores:.4f} cores; no overlap {cores / 2:.4f}, 75% overlap {cores * 2:.4f}"
    )
    print(f"RESULT features_vs_floor {plain_ratio:.3f} ratio (goal >= 0.8)")
    print(f"RESULT features_envelope_vs_floor {env_ratio:.3f} ratio (goal >= 0.8)")
    print(f"RESULT features_cpu_per_25k6_channel {cores:.4f} cores (goal <= 0.05)")


if __name__ == "__main__":
    main()
