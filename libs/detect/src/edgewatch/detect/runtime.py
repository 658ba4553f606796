"""What serving a windowed detector needs at run time, numpy only: causal windows, thresholds, persistence.

The inference service and ``edgewatch model eval`` both use this module, so a model scores the same windows and
raises the same alarms in both places:

* ``WindowBuffer(window, n_features).push(vec)`` keeps the last ``window`` vectors of one stream (a ring buffer)
  and returns them oldest first as a ``[window, n_features]`` array once it holds that many, ``None`` before.
  A window ending at sample t holds samples t-window+1 .. t only: scoring it is causal.
* ``WindowBuffers`` keeps one ``WindowBuffer`` per key (device).
* ``Persistence(raise_k, clear_m).update(over)`` is the alarm state machine: the alarm rises after ``raise_k``
  consecutive scores over the threshold and clears after ``clear_m`` consecutive scores at or under it, so one
  noisy sample neither raises nor clears it.
* ``over_threshold`` (score > threshold, the service's ``isAnomaly``) and ``persist`` (the state machine over a
  whole series) are the batch forms the evaluation uses.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

__all__ = [
    "Persistence",
    "WindowBuffer",
    "WindowBuffers",
    "over_threshold",
    "persist",
    "sliding_windows",
]

F32 = npt.NDArray[np.float32]
Bools = npt.NDArray[np.bool_]


class WindowBuffer:
    """The last ``window`` feature vectors of one stream, oldest first.

    Every row is written twice (at ``i`` and ``i + window`` of a ``2*window`` array) so the current window is
    always one contiguous slice: a push costs one row copy plus the copy handed out.
    """

    def __init__(self, window: int, n_features: int) -> None:
        if window < 1 or n_features < 1:
            raise ValueError(f"window ({window}) and n_features ({n_features}) must be >= 1")
        self.window = window
        self.n_features = n_features
        self._buf = np.zeros((2 * window, n_features), dtype=np.float32)
        self._next = 0
        self._count = 0

    @property
    def count(self) -> int:
        """How many vectors are held (at most ``window``)."""
        return self._count

    @property
    def ready(self) -> bool:
        """True once ``window`` vectors have been pushed since the last reset."""
        return self._count == self.window

    def push(self, vec: npt.ArrayLike) -> F32 | None:
        """Append one vector; the window ending with it (a new ``[window, n_features]`` float32 array), or ``None``.

        Raises:
            ValueError: ``vec`` does not have ``n_features`` values.
        """
        row = np.asarray(vec, dtype=np.float32).reshape(-1)
        if row.shape[0] != self.n_features:
            raise ValueError(f"expected {self.n_features} values, got {row.shape[0]}")
        w, i = self.window, self._next
        self._buf[i] = row
        self._buf[i + w] = row
        self._next = (i + 1) % w
        if self._count < w:
            self._count += 1
            if self._count < w:
                return None
        start = self._next
        return self._buf[start : start + w].copy()

    def reset(self) -> None:
        """Forget every vector (a gap in the stream, a model change)."""
        self._next = 0
        self._count = 0


class WindowBuffers:
    """One ``WindowBuffer`` per key (a device), created on first use."""

    def __init__(self, window: int, n_features: int) -> None:
        WindowBuffer(window, n_features)  # validates the sizes now, not on first push
        self.window = window
        self.n_features = n_features
        self._by_key: dict[Hashable, WindowBuffer] = {}

    def push(self, key: Hashable, vec: npt.ArrayLike) -> F32 | None:
        """``WindowBuffer.push`` on ``key``'s buffer."""
        buf = self._by_key.get(key)
        if buf is None:
            buf = self._by_key[key] = WindowBuffer(self.window, self.n_features)
        return buf.push(vec)

    def reset(self, key: Hashable) -> None:
        """Forget ``key``'s vectors."""
        self._by_key.pop(key, None)

    def __len__(self) -> int:
        return len(self._by_key)


class Persistence:
    """Alarm hysteresis: rise after ``raise_k`` consecutive overs, clear after ``clear_m`` consecutive unders."""

    def __init__(self, raise_k: int = 1, clear_m: int = 1) -> None:
        if raise_k < 1 or clear_m < 1:
            raise ValueError(f"raise_k ({raise_k}) and clear_m ({clear_m}) must be >= 1")
        self.raise_k = raise_k
        self.clear_m = clear_m
        self.alarm = False
        self._run = 0  # consecutive samples disagreeing with the current state

    def update(self, over: bool) -> bool:
        """Feed whether the latest score is over the threshold; returns the alarm state after it."""
        if over != self.alarm:
            self._run += 1
            if self._run >= (self.raise_k if over else self.clear_m):
                self.alarm = over
                self._run = 0
        else:
            self._run = 0
        return self.alarm

    def reset(self) -> None:
        """Back to no alarm."""
        self.alarm = False
        self._run = 0


def over_threshold(scores: npt.ArrayLike, threshold: float) -> Bools:
    """``score > threshold`` per score (a NaN score is never over)."""
    s = np.asarray(scores, dtype=np.float64)
    out: Bools = s > threshold
    return out


def persist(over: npt.ArrayLike, raise_k: int = 1, clear_m: int = 1) -> Bools:
    """The alarm state after each element of ``over``, from a fresh ``Persistence(raise_k, clear_m)``."""
    p = Persistence(raise_k, clear_m)
    flags = np.asarray(over, dtype=bool).tolist()
    return np.array([p.update(bool(o)) for o in flags], dtype=bool)


def sliding_windows(x: npt.ArrayLike, window: int) -> F32:
    """Every full window of a ``[T, F]`` series, ``[T-window+1, window, F]`` float32: what ``WindowBuffer.push``
    returns for rows window-1 .. T-1, computed at once (a strided view, copied).

    Raises:
        ValueError: ``x`` is not 2-D, or ``window`` < 1.
    """
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or window < 1:
        raise ValueError(f"need a [T, F] series and window >= 1, got shape {arr.shape} and window {window}")
    if arr.shape[0] < window:
        return np.zeros((0, window, arr.shape[1]), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(arr, window, axis=0)  # [T-W+1, F, W]
    out: F32 = np.ascontiguousarray(view.transpose(0, 2, 1))
    return out
