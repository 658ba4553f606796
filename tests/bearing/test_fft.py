"""edgewatch.bearing.fft (numpy's pocketfft, no scipy at run time) gives what scipy.fft gave, bit for bit."""

from __future__ import annotations

import numpy as np
import scipy.fft

from edgewatch.bearing.fft import ifft, next_fast_len, rfft
from edgewatch.bearing.geometry import BearingGeometry, fault_multipliers
from edgewatch.bearing.spectrum import EnvelopePlan


def test_next_fast_len_is_scipys_complex_good_size() -> None:
    # the envelope's decimated length m: a different m changes the envelope spectrum's length and its mean level
    got = [next_fast_len(t) for t in range(1, 40000, 7)]
    assert got == [scipy.fft.next_fast_len(t) for t in range(1, 40000, 7)]
    assert next_fast_len(13) == 14 and next_fast_len(2 * 7919) == 15840  # 11-smooth, not 5-smooth (16000)


def test_transforms_equal_scipys_on_a_window() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal(8192)
    assert np.array_equal(rfft(x), scipy.fft.rfft(x))
    assert rfft(x.astype(np.float32)).dtype == np.complex64
    buf = np.zeros(next_fast_len(2 * 1229), dtype=np.complex128)
    buf[:1229] = rfft(x)[205:1434]
    assert np.array_equal(ifft(buf), scipy.fft.ifft(buf))


def test_envelope_features_equal_the_scipy_computation() -> None:
    fs, n = 12000.0, 8192
    t = np.arange(n) / fs
    x = np.sin(2 * np.pi * 3000.0 * t) * (1.0 + np.sin(2 * np.pi * 107.0 * t)) + 0.1 * np.sin(2 * np.pi * 29.9 * t)
    plan = EnvelopePlan.build(n, fs, (2000.0, 4000.0), fault_multipliers(BearingGeometry(9, 0.3126, 1.537)), 3, 0.02)
    spec = rfft(x)
    out = np.empty(plan.width)
    plan.compute(spec, 29.93, None, out)
    # the same envelope spectrum written out with scipy.fft, as the module computed it before
    buf = np.zeros(scipy.fft.next_fast_len(2 * (plan.k1 - plan.k0)), dtype=np.complex128)
    buf[: plan.k1 - plan.k0] = scipy.fft.rfft(x)[plan.k0 : plan.k1]
    e = np.abs(scipy.fft.ifft(buf)) ** 2
    es = np.abs(scipy.fft.rfft(e - e.mean())) * ((2.0 * plan.m / n) ** 2 * 2.0 / plan.m)
    assert plan.m == buf.shape[0]
    np.testing.assert_allclose(plan.envelope_spectrum(spec), es, rtol=1e-12, atol=1e-15)
    assert out[-1] == float(np.argmax(es[1:]) + 1) * plan.df
