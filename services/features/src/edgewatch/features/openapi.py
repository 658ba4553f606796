"""Writes the OpenAPI document of edgewatch-features to openapi/features.yaml.

``python -m edgewatch.features.openapi [outdir]``; a test diffs the committed file against the app.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from edgewatch.features.app import build_app
from edgewatch.features.config import FeaturesSettings

__all__ = ["document", "main", "render"]


def document() -> dict[str, Any]:
    """The app's OpenAPI document (built, not started; config kept in memory)."""
    settings = FeaturesSettings.model_validate({"Features": {"ConfigStore": ""}})
    return build_app(settings).app.openapi()


def render(doc: dict[str, Any]) -> str:
    """Stable YAML text of the document."""
    return yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, width=120)


def main(argv: list[str] | None = None) -> None:
    """Write ``<outdir>/features.yaml`` (default ``openapi/``)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("openapi")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "features.yaml"
    path.write_text(render(document()), encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main()
