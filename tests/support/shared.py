"""The one place tests find ``../shared`` (EdgeX specs, profiles, device files, datasets).

``$EDGEWATCH_SHARED`` overrides the default ``<repo>/../shared``. Locally, a test whose shared files are absent is
skipped with the reason. Under CI (``CI`` set) absence fails the run instead: CI must never go green by skipping
the EdgeX compatibility and dataset tests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = [
    "REPO",
    "SharedMissingError",
    "absent",
    "require_shared",
    "shared_files",
    "shared_mark",
    "shared_path",
    "shared_root",
]

REPO = Path(__file__).resolve().parents[2]


class SharedMissingError(RuntimeError):
    """A shared file or folder the tests need is absent while running under CI."""


def shared_root() -> Path:
    """``$EDGEWATCH_SHARED``, else ``<repo>/../shared``."""
    env = os.environ.get("EDGEWATCH_SHARED")
    return Path(env).expanduser().resolve() if env else REPO.parent / "shared"


def under_ci() -> bool:
    """True when the ``CI`` environment variable is set (to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shared_path(*parts: str) -> Path:
    """The path of ``parts`` under the shared folder, present or not."""
    return shared_root().joinpath(*parts)


def _missing(path: Path) -> str:
    return f"{path} is absent (set EDGEWATCH_SHARED to the shared folder)"


def absent(reason: str) -> NoReturn:
    """Something a test needs is missing: skip it with ``reason`` locally, fail it under CI."""
    if under_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def require_shared(*parts: str) -> Path:
    """Inside a test or fixture: the path; when absent, skip the test with the reason (fail it under CI)."""
    path = shared_path(*parts)
    if not path.exists():
        absent(_missing(path))
    return path


def _check_at_collection(path: Path) -> bool:
    """True when present; False locally when absent; raises under CI (a collection error fails the run)."""
    if path.exists():
        return True
    if under_ci():
        raise SharedMissingError(_missing(path))
    return False


def shared_files(*parts: str, pattern: str = "*") -> list[Path]:
    """At collection time (for ``parametrize``): the files under a shared folder, sorted.

    Locally an absent folder gives ``[]`` (pair it with :func:`shared_mark` so the test reports a skip with the
    reason); under CI it raises :class:`SharedMissingError`.
    """
    folder = shared_path(*parts)
    if not _check_at_collection(folder):
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def shared_mark(*parts: str) -> pytest.MarkDecorator:
    """A ``skipif`` mark for a test or module that needs ``parts``; under CI an absent path raises instead."""
    path = shared_path(*parts)
    return pytest.mark.skipif(not _check_at_collection(path), reason=_missing(path))
