"""Every service has the common skeleton, so knowing one service means knowing all (../shared/design/STYLE.md)."""

from __future__ import annotations

import pytest

from tests.architecture.codemap import Component, components

SERVICES = [c for c in components() if c.kind == "service"]
MODULES = ("__main__.py", "app.py", "config.py", "messaging.py")


def missing_parts(comp: Component) -> list[str]:
    """The skeleton files ``comp`` lacks (``api`` may be a module or a package of routers)."""
    missing = [f"src/.../{m}" for m in MODULES if not (comp.src / m).is_file()]
    if not (comp.src / "api.py").is_file() and not (comp.src / "api" / "__init__.py").is_file():
        missing.append("src/.../api.py (or api/)")
    missing += [f for f in ("res/configuration.yaml", "README.md", "pyproject.toml") if not (comp.root / f).is_file()]
    return missing


def test_there_are_services() -> None:
    assert {c.package for c in SERVICES} >= {"edgewatch.core", "edgewatch.ingest", "edgewatch.sync"}


@pytest.mark.parametrize("comp", SERVICES, ids=lambda c: c.dist)
def test_service_has_the_common_skeleton(comp: Component) -> None:
    assert missing_parts(comp) == []


@pytest.mark.parametrize("comp", SERVICES, ids=lambda c: c.dist)
def test_service_runs_as_python_m_and_its_main_builds_through_app(comp: Component) -> None:
    main = (comp.src / "__main__.py").read_text(encoding="utf-8")
    assert "build_app" in main, f"{comp.package}.__main__ must serve what app.build_app wires"
