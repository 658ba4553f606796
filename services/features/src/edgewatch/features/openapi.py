"""Writes the OpenAPI document of edgewatch-features to openapi/features.yaml.

``python -m edgewatch.features.openapi [outdir]``; a test diffs the committed file against the app.
"""

from __future__ import annotations

from typing import Any

from edgewatch.common.service.openapi import render, write_documents
from edgewatch.features.app import build_app
from edgewatch.features.config import FeaturesSettings

__all__ = ["document", "main", "render"]


def document() -> dict[str, Any]:
    """The app's OpenAPI document (built, not started; config kept in memory)."""
    settings = FeaturesSettings.model_validate({"Features": {"ConfigStore": ""}})
    return build_app(settings).app.openapi()


def main(argv: list[str] | None = None) -> None:
    """Write ``<outdir>/features.yaml`` (default ``openapi/``)."""
    write_documents({"features": document()}, argv)


if __name__ == "__main__":
    main()
