"""Writes the OpenAPI documents of core's three apps to openapi/core-{metadata,data,command}.yaml.

``python -m edgewatch.core.openapi [outdir]``; a test diffs the committed files against the apps.
"""

from __future__ import annotations

from typing import Any

from edgewatch.common.service.openapi import render, write_documents
from edgewatch.core.app import build_app
from edgewatch.core.config import CoreSettings

__all__ = ["documents", "main", "render"]


def documents() -> dict[str, dict[str, Any]]:
    """``{label: openapi dict}`` for core-metadata, core-data and core-command (built, not started)."""
    host = build_app(CoreSettings())
    return {label: app.openapi() for label, _port, app in host.apps}


def main(argv: list[str] | None = None) -> None:
    """Write the three files."""
    write_documents(documents(), argv)


if __name__ == "__main__":
    main()
