"""edgewatch.common's layers import one way: contracts <- bus <- service; the library imports no service.

Every import statement counts, also ones inside functions and ``TYPE_CHECKING`` blocks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import edgewatch.common

ROOT = Path(edgewatch.common.__file__).parent
RANK = {"contracts": 0, "bus": 1, "service": 2}


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    here = _module(path, root)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
    return sorted(found)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["edgewatch", "common"] and parts[2] in RANK else None


def _violations(root: Path) -> list[str]:
    """Imports under ``root`` (an ``edgewatch/common`` directory) that point up a layer or out to a service."""
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        here = _layer(_module(path, root))
        for line, target in _imports(path, root):
            if target.startswith("edgewatch.") and not target.startswith("edgewatch.common"):
                out.append(f"{path.relative_to(root)}:{line} imports {target} (the library imports no service)")
            there = _layer(target)
            if here is not None and there is not None and RANK[there] > RANK[here]:
                out.append(f"{path.relative_to(root)}:{line} ({here}) imports {target} ({there} sits above)")
    return out


def test_common_layers_import_only_downwards() -> None:
    assert _violations(ROOT) == []


def test_the_scan_finds_upward_imports_inside_functions_relative_ones_and_service_imports(tmp_path: Path) -> None:
    root = tmp_path / "edgewatch" / "common"
    (root / "contracts").mkdir(parents=True)
    (root / "bus").mkdir()
    (root / "bus" / "client.py").write_text(
        "def f():\n    from edgewatch.common.service.metrics import ServiceMetrics\n\nfrom ..service import host\n"
    )
    (root / "contracts" / "alert.py").write_text(
        "from edgewatch.common.bus.codec import pack\nfrom . import topics\nimport edgewatch.sync.app\n"
    )
    assert _violations(root) == [
        "bus/client.py:2 (bus) imports edgewatch.common.service.metrics.ServiceMetrics (service sits above)",
        "bus/client.py:4 (bus) imports edgewatch.common.service.host (service sits above)",
        "contracts/alert.py:1 (contracts) imports edgewatch.common.bus.codec.pack (bus sits above)",
        "contracts/alert.py:3 imports edgewatch.sync.app (the library imports no service)",
    ]


@pytest.mark.parametrize("layer", sorted(RANK))
def test_every_layer_is_a_package(layer: str) -> None:
    assert (ROOT / layer / "__init__.py").is_file()
