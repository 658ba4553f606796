"""Writes the OpenAPI documents of core's three apps to openapi/core-{metadata,data,command}.yaml.

``python -m edgewatch.core.openapi [outdir]``; a test diffs the committed files against the apps.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from edgewatch.core.app import build_app
from edgewatch.core.config import CoreSettings

__all__ = ["documents", "main", "render"]


def documents() -> dict[str, dict[str, Any]]:
    """``{label: openapi dict}`` for core-metadata, core-data and core-command (built, not started)."""
    host = build_app(CoreSettings())
    return {label: app.openapi() for label, _port, app in host.apps}


def render(doc: dict[str, Any]) -> str:
    """Stable YAML text of one document."""
    return yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, width=120)


def main(argv: list[str] | None = None) -> None:
    """Write the three files."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("openapi")
    out.mkdir(parents=True, exist_ok=True)
    for label, doc in documents().items():
        (out / f"{label}.yaml").write_text(render(doc), encoding="utf-8")
        print(out / f"{label}.yaml")


if __name__ == "__main__":
    main()
