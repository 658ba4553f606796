"""The project's components (libraries and services) and the imports of every module, read with ``ast``.

A component is a distribution under ``libs/`` or ``services/`` with one package ``edgewatch.<name>``; its declared
dependencies come from its ``pyproject.toml``. Imports are read from the source (module level and inside
functions; ``if TYPE_CHECKING:`` blocks included), never by importing anything.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Component", "Import", "components", "imports_of", "module_name"]

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Import:
    """One imported module, as written in ``path`` at ``line``."""

    target: str
    line: int
    top_level: bool
    """At module level (outside functions), not under ``if TYPE_CHECKING``: it runs when the module loads."""


@dataclass
class Component:
    """One distribution of the workspace."""

    kind: str  # "lib" or "service"
    dist: str
    package: str  # e.g. "edgewatch.common"
    root: Path  # libs/<x> or services/<x>
    depends: set[str] = field(default_factory=set)  # declared edgewatch-* distributions

    @property
    def src(self) -> Path:
        """The package directory."""
        return self.root / "src" / Path(*self.package.split("."))

    def modules(self) -> Iterator[tuple[str, Path]]:
        """(dotted module name, path) of every module of the package."""
        for path in sorted(self.src.rglob("*.py")):
            yield module_name(self.root / "src", path), path


def module_name(src: Path, path: Path) -> str:
    """Dotted name of ``path`` below the source root ``src``."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def components() -> list[Component]:
    """Every library and service of the workspace."""
    out = []
    for kind, folder in (("lib", "libs"), ("service", "services")):
        for root in sorted((REPO / folder).iterdir()):
            meta = root / "pyproject.toml"
            if not meta.is_file():
                continue
            project = tomllib.loads(meta.read_text(encoding="utf-8"))["project"]
            pkgs = [p for p in (root / "src" / "edgewatch").iterdir() if p.is_dir() and p.name != "__pycache__"]
            assert len(pkgs) == 1, f"{root}: expected one package under src/edgewatch, found {pkgs}"
            deps = {_dist_name(d) for d in project.get("dependencies", [])}
            out.append(
                Component(
                    kind,
                    project["name"],
                    f"edgewatch.{pkgs[0].name}",
                    root,
                    {d for d in deps if d.startswith("edgewatch-")},
                )
            )
    return out


def _dist_name(requirement: str) -> str:
    name = requirement
    for sep in "<>=!~[; ":
        name = name.split(sep, 1)[0]
    return name.strip().lower()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, is_package: bool) -> list[Import]:
    """Every ``edgewatch`` module that ``module`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.body:
                    visit(ast.Module(body=[sub], type_ignores=[]), False)
                for sub in child.orelse:
                    visit(ast.Module(body=[sub], type_ignores=[]), top)
            elif isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(child, package)
                found.extend(Import(f"{base}.{a.name}", child.lineno, top) for a in child.names)
                found.append(Import(base, child.lineno, top))
            else:
                visit(child, top)

    visit(tree, True)
    return [i for i in found if i.target == "edgewatch" or i.target.startswith("edgewatch.")]


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)
