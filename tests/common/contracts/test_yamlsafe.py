"""YAML budgets: alias bombs, merge-key bombs, recursive anchors and deep nesting are refused before anything is
built; documents within budget load as before (aliases and merges still work)."""

from __future__ import annotations

import pytest
import yaml

from edgewatch.common.contracts.limits import SizeLimitError, StructureLimitError
from edgewatch.common.contracts.yamlcompat import load_device_definitions, load_profile_yaml
from edgewatch.common.contracts.yamlsafe import YamlBudget, YamlBudgetError, safe_load
from tests.support.hostile import alias_bomb, merge_bomb


def test_alias_bomb_profile_is_refused_with_400_naming_the_alias_budget() -> None:
    text = alias_bomb()
    assert len(text) < 1024
    with pytest.raises(StructureLimitError) as err:
        load_profile_yaml(text)
    assert err.value.status == 400 and err.value.limit == "MaxYamlAliasNodes"
    assert "profile file" in err.value.message and "Service.MaxYamlAliasNodes" in err.value.message


@pytest.mark.parametrize("text", [alias_bomb(), merge_bomb()])
def test_plain_loads_refuse_alias_and_merge_bombs(text: str) -> None:
    with pytest.raises(YamlBudgetError) as err:
        safe_load(text)
    assert err.value.limit == "MaxYamlAliasNodes" and not err.value.size


@pytest.mark.parametrize("text", ["a: &a [*a]", "a: &a {b: *a}", "- " * 40 + "x", "[" * 40 + "]" * 40])
def test_recursive_anchors_and_deep_nesting_are_refused_at_the_depth_budget(text: str) -> None:
    with pytest.raises(YamlBudgetError) as err:
        safe_load(text)
    assert err.value.limit == "MaxDocumentDepth"


def test_nesting_beyond_libyaml_is_a_yaml_error_not_a_crash() -> None:
    with pytest.raises(yaml.YAMLError):
        safe_load("[" * 100_000)


def test_documents_over_the_byte_budget_are_413() -> None:
    text = "name: big\ndescription: " + "x" * 2000 + "\n"
    with pytest.raises(SizeLimitError) as err:
        load_profile_yaml(text, YamlBudget(max_bytes=1000))
    assert err.value.status == 413
    with pytest.raises(YamlBudgetError) as plain:
        safe_load(text, YamlBudget(max_bytes=1000))
    assert plain.value.size


def test_device_files_are_held_to_the_same_budget() -> None:
    text = alias_bomb(key="deviceList")
    with pytest.raises(StructureLimitError):
        load_device_definitions(text)
    with pytest.raises(StructureLimitError):
        load_device_definitions("[" * 50 + "]" * 50)


def test_aliases_and_merge_keys_within_budget_still_load() -> None:
    text = """
base: &base {x: 1, y: [1, 2]}
a: {<<: *base, z: 3}
b: [*base, *base]
"""
    assert safe_load(text) == {
        "base": {"x": 1, "y": [1, 2]},
        "a": {"x": 1, "y": [1, 2], "z": 3},
        "b": [{"x": 1, "y": [1, 2]}, {"x": 1, "y": [1, 2]}],
    }
    with pytest.raises(YamlBudgetError):
        safe_load(text, YamlBudget(max_alias_nodes=5))


def test_profile_with_anchored_attributes_loads_within_budget() -> None:
    text = """
name: anchored
deviceResources:
  - name: a
    attributes: &attrs {primaryTable: HOLDING_REGISTERS, startingAddress: 0}
    properties: {valueType: Int16, readWrite: R}
  - name: b
    attributes: *attrs
    properties: {valueType: Int16, readWrite: R}
"""
    p = load_profile_yaml(text)
    assert [r.name for r in p.device_resources] == ["a", "b"]
    assert p.device_resources[1].attributes == {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0}
