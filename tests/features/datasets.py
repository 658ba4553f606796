"""Locate the shared datasets (``<repo>/../shared/datasets`` or ``$EDGEWATCH_DATASETS``); skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["dataset_path"]


def dataset_path(*parts: str) -> Path:
    """The path of a shared dataset file or folder; skips the calling test with the reason when it is absent."""
    root = Path(
        os.environ.get("EDGEWATCH_DATASETS") or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    )
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"dataset {path} is absent (set EDGEWATCH_DATASETS to the shared datasets folder)")
    return path
