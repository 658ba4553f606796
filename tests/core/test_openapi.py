"""The committed OpenAPI documents (openapi/core-*.yaml) match what core's apps generate."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from edgewatch.core.openapi import documents, render

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"


@cache
def _docs() -> dict[str, dict[str, Any]]:
    return documents()


@pytest.mark.parametrize("label", ["core-metadata", "core-data", "core-command"])
def test_openapi_committed_document_matches_the_app(label: str) -> None:
    generated = render(_docs()[label])
    committed = (OPENAPI / f"{label}.yaml").read_text(encoding="utf-8")
    assert committed == generated, f"openapi/{label}.yaml is stale: run python -m edgewatch.core.openapi openapi"
