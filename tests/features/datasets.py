"""Shared datasets (``<shared>/datasets``, located by tests.support.shared); skip when absent, fail under CI."""

from __future__ import annotations

from pathlib import Path

from tests.support.shared import require_shared

__all__ = ["dataset_path"]


def dataset_path(*parts: str) -> Path:
    """The path of a shared dataset file or folder (skips the calling test when absent, fails it under CI)."""
    return require_shared("datasets", *parts)
