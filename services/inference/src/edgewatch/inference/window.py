"""Causal windowing and alarm persistence for served models (numpy only, no state outside the objects).

This is the service's seam for ``edgewatch.detect.runtime`` (issue 13): ``WindowBuffer`` and ``Persistence``
here have the same constructor arguments, methods and semantics as that shared module, so at merge the one
import in ``scoring.py`` (``from edgewatch.inference.window import ...``) becomes
``from edgewatch.detect.runtime import ...`` and this module can be deleted.

* ``WindowBuffer(window, n_features).push(vec)``: appends one feature vector; returns the last ``window``
  vectors, oldest first, as a new float array ``[window, n_features]`` once ``window`` vectors have been pushed,
  else ``None``. Causal: a window never contains a vector pushed after the one that completed it.
* ``Persistence(raise_k, clear_m).update(over)``: the alarm state machine. The alarm raises after ``raise_k``
  consecutive over-threshold scores and clears after ``clear_m`` consecutive scores under it; returns the state
  after this score. ``Persistence(1, 1)`` is the plain ``score > threshold`` flag.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Persistence", "WindowBuffer"]


class WindowBuffer:
    """Ring buffer of the last ``window`` vectors of one device (causal)."""

    def __init__(self, window: int, n_features: int) -> None:
        if window < 1 or n_features < 1:
            raise ValueError(f"window ({window}) and n_features ({n_features}) must be >= 1")
        self.window = window
        self.n_features = n_features
        self._ring = np.zeros((window, n_features), dtype=np.float64)
        self._count = 0

    def push(self, vec: npt.ArrayLike) -> npt.NDArray[np.float64] | None:
        """Append ``vec`` [n_features]; the window [window, n_features] (oldest first) once full, else ``None``.

        Raises:
            ValueError: ``vec`` does not have ``n_features`` values.
        """
        v = np.asarray(vec, dtype=np.float64)
        if v.shape != (self.n_features,):
            raise ValueError(f"vector of shape {v.shape}, expected ({self.n_features},)")
        pos = self._count % self.window
        self._ring[pos] = v
        self._count += 1
        if self._count < self.window:
            return None
        start = self._count % self.window
        if start == 0:
            return self._ring.copy()
        return np.concatenate((self._ring[start:], self._ring[:start]))

    @property
    def full(self) -> bool:
        """Whether ``window`` vectors have been pushed."""
        return self._count >= self.window


class Persistence:
    """Raise after ``raise_k`` consecutive over-threshold scores, clear after ``clear_m`` consecutive under."""

    def __init__(self, raise_k: int = 1, clear_m: int = 1) -> None:
        if raise_k < 1 or clear_m < 1:
            raise ValueError(f"raise_k ({raise_k}) and clear_m ({clear_m}) must be >= 1")
        self.raise_k = raise_k
        self.clear_m = clear_m
        self.active = False
        self._run = 0  # consecutive scores on the side that would flip the state

    def update(self, over: bool) -> bool:
        """Feed one score's over-threshold flag; returns the alarm state after it."""
        if over != self.active:
            self._run += 1
            if self._run >= (self.raise_k if over else self.clear_m):
                self.active = over
                self._run = 0
        else:
            self._run = 0
        return self.active
