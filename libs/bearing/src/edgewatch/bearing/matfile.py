"""Reading one channel of a CWRU MATLAB v5 ``.mat`` recording (``scipy.io``; variables like ``X097_DE_time``).

scipy is the ``cwru`` extra of edgewatch-bearing (``pip install 'edgewatch-bearing[cwru]'``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

try:
    import scipy.io
except ModuleNotFoundError as exc:  # scipy is the `cwru` extra: the features service uses this package without it
    raise ModuleNotFoundError(
        "edgewatch model eval cwru reads MATLAB files with scipy.io: pip install 'edgewatch-bearing[cwru]'",
        name=exc.name,
    ) from exc

__all__ = ["RecordingError", "read_channel", "read_rpm"]


class RecordingError(ValueError):
    """A recording that cannot be read, or lacks the channel asked for."""


def _names(path: Path) -> list[str]:
    try:
        return [name for name, _shape, _cls in scipy.io.whosmat(str(path))]
    except Exception as exc:  # scipy's reader raises IndexError, ValueError, struct.error... on a damaged file
        raise RecordingError(f"{path}: not a readable MATLAB v5 file: {exc!r}") from None


def _load(path: Path, name: str) -> NDArray[np.float64]:
    try:
        value = scipy.io.loadmat(str(path), variable_names=[name])[name]
    except Exception as exc:  # as in _names: any failure of the third-party reader is this file's fault
        raise RecordingError(f"{path}: cannot read {name}: {exc!r}") from None
    return np.asarray(value, dtype=np.float64).ravel()


def read_channel(path: Path, suffix: str) -> NDArray[np.float64]:
    """The samples of the one variable of ``path`` whose name ends with ``suffix`` (e.g. ``DE_time``)."""
    names = [n for n in _names(path) if n.endswith(suffix)]
    if len(names) != 1:
        raise RecordingError(f"{path}: expected one variable ending in {suffix!r}, found {names or 'none'}")
    x = _load(path, names[0])
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise RecordingError(f"{path}: {names[0]} is empty or holds NaN/Inf")
    return x


def read_rpm(path: Path) -> float:
    """The recording's shaft speed from its ``*RPM`` variable."""
    names = [n for n in _names(path) if n.endswith("RPM")]
    if not names:
        raise RecordingError(f"{path}: no *RPM variable (give rpm in the manifest)")
    rpm = _load(path, names[0])
    if rpm.size == 0 or not np.isfinite(rpm[0]) or rpm[0] <= 0:
        raise RecordingError(f"{path}: {names[0]} is not a positive speed")
    return float(rpm[0])
