"""Committed OpenAPI documents: stable YAML rendering and the ``python -m edgewatch.<svc>.openapi [outdir]`` writer."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["render", "write_documents"]


def render(doc: dict[str, Any]) -> str:
    """Stable YAML text of one OpenAPI document (sorted keys, so a diff shows only real changes)."""
    return yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, width=120)


def write_documents(docs: Mapping[str, dict[str, Any]], argv: list[str] | None = None) -> None:
    """Write ``<outdir>/<label>.yaml`` for each document; outdir is ``argv[0]`` (default ``openapi/``)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("openapi")
    out.mkdir(parents=True, exist_ok=True)
    for label, doc in docs.items():
        path = out / f"{label}.yaml"
        path.write_text(render(doc), encoding="utf-8")
        print(path)
