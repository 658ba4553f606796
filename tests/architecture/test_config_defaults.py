"""Every default has one source: the service's ``config.py``. A service's ``res/configuration.yaml`` sets only what
that packaged deployment deliberately changes (an override), so a default can never drift between the two."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import yaml

from edgewatch.common.service.settings import ServiceSettings, load_settings
from tests.architecture.codemap import Component, components

SERVICES = [c for c in components() if c.kind == "service"]


def settings_class(comp: Component) -> type[ServiceSettings]:
    """The service's ``<Svc>Settings`` class."""
    config = importlib.import_module(f"{comp.package}.config")
    found = [
        v
        for k, v in vars(config).items()
        if k.endswith("Settings")
        and isinstance(v, type)
        and issubclass(v, ServiceSettings)
        and v is not ServiceSettings
    ]
    assert len(found) == 1, f"{comp.package}.config: expected one Settings class, found {found}"
    return found[0]


def restated_defaults(file_doc: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...] = ()) -> list[str]:
    """Key paths whose value in the file equals the code default."""
    out = []
    for key, value in file_doc.items():
        default = defaults.get(key, KeyError) if isinstance(defaults, dict) else KeyError
        if isinstance(value, dict) and value and isinstance(default, dict):
            out += restated_defaults(value, default, (*path, key))
        elif value == default:
            out.append(".".join((*path, key)))
    return out


@pytest.mark.parametrize("comp", SERVICES, ids=lambda c: c.dist)
def test_res_configuration_loads_and_restates_no_default(comp: Component) -> None:
    cls = settings_class(comp)
    res = comp.root / "res" / "configuration.yaml"
    doc = yaml.safe_load(res.read_text(encoding="utf-8")) or {}
    assert isinstance(doc, dict)
    load_settings(cls, res, env={})  # valid: every key known, every value accepted
    defaults = load_settings(cls, None, env={}).model_dump(by_alias=True)
    assert restated_defaults(doc, defaults) == [], f"{res} restates config.py defaults"


def test_restated_defaults_sees_nested_equal_values() -> None:
    defaults = {"A": {"B": 1, "C": 2}, "D": "x"}
    assert restated_defaults({"A": {"B": 1, "C": 3}, "D": "y"}, defaults) == ["A.B"]
    assert restated_defaults({"A": {"C": 3}}, defaults) == []
