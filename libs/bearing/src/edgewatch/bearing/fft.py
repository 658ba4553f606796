"""The FFTs of the bearing features: numpy's pocketfft (``numpy.fft``), so no scipy at run time.

``numpy.fft`` (numpy >= 2) runs the same C++ pocketfft as ``scipy.fft``: on float64 and float32 input ``rfft`` and
``ifft`` give bit-identical results (checked on the CWRU windows), keep float32 as complex64, and handle any length.
:func:`next_fast_len` is pocketfft's ``good_size`` for complex transforms, the value ``scipy.fft.next_fast_len``
returns by default (``real=False``): the smallest 11-smooth number not below the target.
"""

from __future__ import annotations

from numpy.fft import ifft, rfft

__all__ = ["ifft", "next_fast_len", "rfft"]

_RADICES = (2, 3, 5, 7, 11)


def next_fast_len(target: int) -> int:
    """The smallest length ``>= target`` whose prime factors are all at most 11 (1 for ``target <= 1``)."""
    n = max(1, target)
    while True:
        m = n
        for p in _RADICES:
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1
