"""The committed OpenAPI document (openapi/features.yaml) matches what the features app generates."""

from __future__ import annotations

from pathlib import Path

from edgewatch.features.openapi import document, render

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"


def test_openapi_committed_document_matches_the_app() -> None:
    doc = document()
    assert "/api/v3/features/config/{device}" in doc["paths"]
    committed = (OPENAPI / "features.yaml").read_text(encoding="utf-8")
    assert committed == render(doc), "openapi/features.yaml is stale: run python -m edgewatch.features.openapi openapi"
