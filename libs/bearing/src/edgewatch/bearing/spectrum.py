"""Frequency-domain features of one window: band energies, centroid, dominant frequency, envelope spectrum.

One real FFT per window feeds everything. The envelope (Randall's squared envelope) is computed from the same
spectrum: the band-pass is a selection of the FFT bins in the demodulation band, and the analytic signal (the
Hilbert transform) is the inverse FFT of that one-sided band, shifted to baseband and evaluated on a decimated
grid (``|z|²`` does not change under a frequency shift), so the envelope costs one small complex inverse FFT
plus one small real FFT instead of a full-length ``scipy.signal.hilbert``. The FFTs are numpy's
(:mod:`edgewatch.bearing.fft`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edgewatch.bearing.fft import ifft, next_fast_len, rfft
from edgewatch.bearing.geometry import FAULTS

__all__ = ["EnvelopePlan", "SpectrumPlan", "band_name", "envelope_names", "spectrum_names"]


def band_name(lo: float, hi: float) -> str:
    """Feature name of the energy in the band ``[lo, hi)`` Hz."""
    return f"band_{lo:g}_{hi:g}"


def spectrum_names(bands: Sequence[tuple[float, float]]) -> list[str]:
    """Names of :meth:`SpectrumPlan.compute` outputs, in order."""
    return [*(band_name(lo, hi) for lo, hi in bands), "spectral_centroid", "dominant_hz"]


def envelope_names() -> list[str]:
    """Names of :meth:`EnvelopePlan.compute` outputs, in order."""
    return [*(f"env_{f}" for f in FAULTS), *(f"env_{f}_ratio" for f in FAULTS), "env_peak_hz"]


@dataclass(frozen=True, slots=True)
class EnvelopePlan:
    """Precomputed envelope-spectrum layout for one window length, sample rate and demodulation band.

    ``multipliers`` are the defect frequencies per shaft Hz (:func:`bearing.fault_multipliers`); each fault
    feature is the sum over ``harmonics`` of the largest squared-envelope amplitude within ``±tolerance``
    (a fraction of the frequency, at least one bin) of ``h·f``; ``_ratio`` divides that by ``harmonics`` times
    the mean envelope-spectrum level (a prominence that is comparable across faults).
    """

    n: int
    df: float
    k0: int
    k1: int
    m: int
    multipliers: tuple[float, float, float, float]
    harmonics: int
    tolerance: float

    @classmethod
    def build(
        cls,
        n: int,
        fs: float,
        band: tuple[float, float],
        multipliers: tuple[float, float, float, float],
        harmonics: int,
        tolerance: float,
    ) -> EnvelopePlan:
        """Lay out the envelope for ``n``-sample windows at ``fs`` Hz demodulated in ``band`` Hz."""
        df = fs / n
        half = n // 2 + 1
        k0 = min(max(1, math.ceil(band[0] / df)), half - 1)
        k1 = min(max(k0 + 1, math.ceil(band[1] / df)), half)
        m = next_fast_len(2 * (k1 - k0))
        return cls(n, df, k0, k1, m, multipliers, harmonics, tolerance)

    @property
    def width(self) -> int:
        """Number of outputs."""
        return 2 * len(FAULTS) + 1

    def fault_bins(self, shaft_hz: float) -> NDArray[np.intp]:
        """Index matrix (faults·harmonics, 2·tol+1) of envelope-spectrum bins searched for each fault line."""
        top = self.m // 2
        freqs = np.outer(np.asarray(self.multipliers) * shaft_hz, np.arange(1, self.harmonics + 1)).ravel()
        centre = np.rint(freqs / self.df).astype(np.intp)
        tol = np.maximum(1, np.ceil(self.tolerance * freqs / self.df)).astype(np.intp)
        width = int(tol.max())
        offs = np.arange(-width, width + 1)
        idx = centre[:, None] + np.clip(offs[None, :], -tol[:, None], tol[:, None])
        return np.clip(idx, 1, top)

    def squared_envelope(self, spec: NDArray[np.complex128]) -> NDArray[np.float64]:
        """``|z|²`` of the analytic signal of the band ``[k0, k1)`` of ``spec``, on the decimated grid (``m`` long)."""
        buf = np.zeros(self.m, dtype=np.complex128)
        buf[: self.k1 - self.k0] = spec[self.k0 : self.k1]
        zz = ifft(buf).view(np.float64)
        zz *= zz
        e: NDArray[np.float64] = zz[0::2] + zz[1::2]  # |z|^2 from the interleaved (re, im) pairs
        return e

    def envelope_spectrum(
        self, spec: NDArray[np.complex128], squared: NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """One-sided amplitude spectrum of the squared envelope of the band ``[k0, k1)`` of ``spec``.

        Bin ``i`` is ``i·df`` Hz (``df = fs/n``, the window's resolution); it has ``m//2 + 1`` bins, so it reaches
        the band width. A squared-envelope line of amplitude ``A`` reads ``A``. ``squared``: the
        :meth:`squared_envelope` of ``spec`` when the caller has it already (left unchanged).
        """
        e = self.squared_envelope(spec) if squared is None else squared.copy()
        e -= float(np.add.reduce(e)) / self.m
        es: NDArray[np.float64] = np.abs(rfft(e))
        # |z'| = (2/n)·m·|ifft|, so |z'|² carries (2m/n)²; the one-sided amplitude adds 2/m.
        es *= (2.0 * self.m / self.n) ** 2 * 2.0 / self.m
        return es

    def compute(
        self, spec: NDArray[np.complex128], shaft_hz: float, bins: NDArray[np.intp] | None, out: NDArray[np.float64]
    ) -> None:
        """Write the envelope features of a window with one-sided spectrum ``spec`` into ``out``.

        Args:
            spec: ``rfft`` of the window (length ``n//2+1``).
            shaft_hz: shaft frequency; 0 or less gives zero fault features.
            bins: :meth:`fault_bins` for ``shaft_hz`` (cached by the caller), or None to compute.
            out: destination, :attr:`width` long.
        """
        es = self.envelope_spectrum(spec)
        level = float(np.add.reduce(es[1:])) / max(1, es.shape[0] - 1)
        nf = len(FAULTS)
        if shaft_hz > 0.0:
            if bins is None:
                bins = self.fault_bins(shaft_hz)
            amps = es[bins].max(axis=1).reshape(nf, self.harmonics).sum(axis=1)
            out[:nf] = amps
            out[nf : 2 * nf] = amps / (self.harmonics * level) if level > 0.0 else 0.0
        else:
            out[: 2 * nf] = 0.0
        out[2 * nf] = float(np.argmax(es[1:]) + 1) * self.df


@dataclass(frozen=True, slots=True)
class SpectrumPlan:
    """Precomputed spectral layout for ``n``-sample windows at ``fs`` Hz with energy ``bands`` (Hz).

    The power spectrum is scaled so that its sum is the window's mean square (Parseval): a sine of amplitude
    ``A`` centred on a bin contributes ``A²/2`` to the band holding it. Bands are ``[lo, hi)``; bins outside
    ``[0, fs/2]`` are ignored. Centroid and dominant frequency exclude the DC bin.

    Band sums use one ``np.add.reduceat`` over the sorted band edges (segments), then a tiny cumulative sum
    over segments, so bands may overlap or leave gaps; a full ``cumsum`` of the spectrum costs ~9x more.
    """

    n: int
    fs: float
    weights: NDArray[np.float64]
    freqs: NDArray[np.float64]
    edges: NDArray[np.intp]
    band_a: NDArray[np.intp]
    band_b: NDArray[np.intp]

    @classmethod
    def build(cls, n: int, fs: float, bands: Sequence[tuple[float, float]]) -> SpectrumPlan:
        """Lay out the spectrum for ``n``-sample windows at ``fs`` Hz."""
        half = n // 2 + 1
        df = fs / n
        w = np.full(half, 2.0 / (n * n))
        w[0] = 1.0 / (n * n)
        if n % 2 == 0:
            w[-1] = 1.0 / (n * n)
        lo = [min(half, max(0, math.ceil(a / df))) for a, _ in bands]
        hi = [max(lo_, min(half, max(0, math.ceil(b / df)))) for lo_, (_, b) in zip(lo, bands, strict=True)]
        edges = sorted({e for e in (*lo, *hi) if e < half})
        pos = {e: i for i, e in enumerate(edges)}
        pos[half] = len(edges)  # a band reaching Nyquist ends after the last segment
        band_a = np.array([pos[a] for a in lo], dtype=np.intp)
        band_b = np.array([pos[b] for b in hi], dtype=np.intp)
        freqs = np.arange(half, dtype=np.float64) * df
        return cls(n, fs, w, freqs, np.array(edges, dtype=np.intp), band_a, band_b)

    @property
    def width(self) -> int:
        """Number of outputs."""
        return int(self.band_a.shape[0]) + 2

    def compute(self, spec: NDArray[np.complex128], out: NDArray[np.float64]) -> None:
        """Write band energies, spectral centroid (Hz) and dominant frequency (Hz) of ``spec`` into ``out``."""
        sq = spec.view(np.float64) ** 2  # contiguous (re, im) pairs: faster than the strided .real/.imag
        p = sq[0::2] + sq[1::2]
        p *= self.weights
        nb = self.band_a.shape[0]
        if self.edges.shape[0]:
            segs = np.empty(self.edges.shape[0] + 1)
            segs[0] = 0.0
            np.cumsum(np.add.reduceat(p, self.edges), out=segs[1:])
            out[:nb] = segs[self.band_b] - segs[self.band_a]
        else:
            out[:nb] = 0.0
        total = float(np.add.reduce(p)) - float(p[0])
        out[nb] = float(np.dot(self.freqs, p)) / total if total > 0.0 else 0.0
        out[nb + 1] = float(np.argmax(p[1:]) + 1) * (self.fs / self.n)
