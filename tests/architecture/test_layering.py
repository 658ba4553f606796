"""The import structure, read from the source with ``ast``: libraries never import services, services never import
each other, every component imports only what its pyproject declares, ``edgewatch.common`` is layered one way
(contracts <- bus <- service), and no package has an import cycle at load time."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tests.architecture.codemap import Component, Import, components, imports_of

COMPONENTS = components()
BY_PACKAGE = {c.package: c for c in COMPONENTS}
COMMON_LAYERS = ("contracts", "bus", "service")  # lowest first: a layer imports only itself and those below


def owner(target: str) -> Component | None:
    """The component whose package holds ``target``."""
    for pkg, comp in BY_PACKAGE.items():
        if target == pkg or target.startswith(pkg + "."):
            return comp
    return None


def edges(comp: Component) -> Iterable[tuple[str, Import]]:
    """(importing module, import) for every edgewatch import of ``comp``."""
    for module, path in comp.modules():
        for imp in imports_of(module, path, path.name == "__init__.py"):
            yield module, imp


def component_violations(comps: Iterable[Component]) -> list[str]:
    """Library -> service, service -> service, and imports of components not declared as dependencies."""
    by_dist = {c.dist: c for c in COMPONENTS}
    out: dict[tuple[str, int], str] = {}
    for comp in comps:
        allowed = {comp.package} | {by_dist[d].package for d in comp.depends if d in by_dist}
        for module, imp in edges(comp):
            target = owner(imp.target)
            if target is None or target is comp:
                continue
            if target.kind == "service":
                out.setdefault(
                    (module, imp.line), f"{module}:{imp.line} ({comp.kind}) imports the service {target.dist}"
                )
            elif target.package not in allowed:
                out.setdefault(
                    (module, imp.line), f"{module}:{imp.line} imports {target.dist}, not declared by {comp.dist}"
                )
    return list(out.values())


def common_layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 3 or parts[:2] != ["edgewatch", "common"] or parts[2] not in COMMON_LAYERS:
        return None
    return COMMON_LAYERS.index(parts[2])


def upward_imports(comp: Component) -> list[str]:
    """Imports inside edgewatch.common that point to a higher layer."""
    out: dict[tuple[str, int], str] = {}
    for module, imp in edges(comp):
        mine, theirs = common_layer(module), common_layer(imp.target)
        if mine is not None and theirs is not None and theirs > mine:
            msg = f"{module}:{imp.line} ({COMMON_LAYERS[mine]}) imports {COMMON_LAYERS[theirs]}: {imp.target}"
            out.setdefault((module, imp.line), msg)
    return list(out.values())


def import_cycles(comp: Component, *, load_only: bool) -> list[list[str]]:
    """Cycles among a package's modules: through imports that run at load (``load_only``), or through any import."""
    modules = {m for m, _ in comp.modules()}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, imp in edges(comp):
        if imp.top_level or not load_only:
            target = imp.target
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    return _cycles(graph)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_workspace_has_libraries_and_services() -> None:
    kinds = {c.kind for c in COMPONENTS}
    assert kinds == {"lib", "service"}
    assert "edgewatch.common" in BY_PACKAGE


@pytest.mark.parametrize("comp", COMPONENTS, ids=lambda c: c.dist)
def test_component_imports_no_service_but_itself_and_only_declared_libraries(comp: Component) -> None:
    found = component_violations([comp])
    assert not found, "\n".join(found)


@pytest.mark.parametrize("comp", [c for c in COMPONENTS if c.kind == "lib"], ids=lambda c: c.dist)
def test_library_does_not_declare_a_service_dependency(comp: Component) -> None:
    services = {c.dist for c in COMPONENTS if c.kind == "service"}
    assert comp.depends & services == set()


def test_common_is_layered_contracts_bus_service() -> None:
    found = upward_imports(BY_PACKAGE["edgewatch.common"])
    assert not found, "\n".join(found)


@pytest.mark.parametrize("comp", COMPONENTS, ids=lambda c: c.dist)
def test_package_has_no_import_cycle(comp: Component) -> None:
    assert import_cycles(comp, load_only=True) == []
    assert import_cycles(comp, load_only=False) == [], "modules that import each other (lazily or not)"
