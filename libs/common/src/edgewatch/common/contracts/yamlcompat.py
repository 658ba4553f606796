"""yaml.v3-style loading of profiles and device files: scalars decoded into string fields keep their literal text.

PyYAML resolves ``defaultValue: 0.0`` to the float 0.0 and ``readWrite: RW`` stays a string, but Go's yaml.v3
decodes the *text* of a scalar into a ``string`` field (``"0.0"``), and the typed value into ``any`` fields
(``attributes``, ``protocols``). We compose the YAML node tree once, then build the document guided by the
pydantic model's field types: string-typed positions get the literal text, everything else the typed value.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ValidationError

from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.limits import (
    LimitError,
    SizeLimitError,
    StructureLimitError,
    check_json_depth,
    check_size,
)
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.contracts.yamlsafe import (
    DEFAULT_BUDGET,
    Expansion,
    YamlBudget,
    YamlBudgetError,
    compose,
    flatten_mapping,
)

__all__ = [
    "budget_error",
    "coerce_for",
    "compose_literal",
    "load_device_definitions",
    "load_profile_yaml",
    "validation_text",
]


@dataclass(frozen=True, slots=True)
class _Lit:
    """A YAML scalar: its literal text and the value PyYAML's safe resolver gives it."""

    text: str
    typed: Any


def compose_literal(text: str | bytes, budget: YamlBudget = DEFAULT_BUDGET) -> Any:
    """Parse YAML into dicts/lists whose scalars are ``_Lit`` (text + typed value), within ``budget``.

    Raises:
        YamlBudgetError: over a bound of ``budget`` (size, depth, alias expansion).
        yaml.YAMLError: the text is not YAML.
    """
    loader, node = compose(text, budget)
    try:
        return None if node is None else _build(loader, node, Expansion(budget), 0)
    finally:
        loader.dispose()


def _build(loader: Any, node: yaml.Node, exp: Expansion, depth: int) -> Any:
    exp.visit(node, depth)
    if isinstance(node, yaml.ScalarNode):
        return _Lit(str(node.value), loader.construct_object(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, n, exp, depth + 1) for n in node.value]
    if isinstance(node, yaml.MappingNode):
        flatten_mapping(node, exp, depth)
        out: dict[Any, Any] = {}
        for k, v in node.value:
            key = _build(loader, k, exp, depth + 1)
            out[key.text if isinstance(key, _Lit) else json.dumps(_plain(key))] = _build(loader, v, exp, depth + 1)
        return out
    raise yaml.YAMLError(f"unsupported YAML node {type(node).__name__}")


def _plain(v: Any) -> Any:
    """The typed value of a literal tree (what an ``any`` field receives)."""
    if isinstance(v, _Lit):
        return v.typed
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def coerce_for(tree: Any, annotation: Any) -> Any:
    """Turn a literal tree into plain data for ``annotation`` (yaml.v3 rules for string fields)."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        if isinstance(tree, _Lit):
            return "" if tree.typed is None else tree.text
        return _plain(tree)
    if origin is Literal:
        return tree.text if isinstance(tree, _Lit) and tree.typed is not None else _plain(tree)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if isinstance(tree, _Lit) and tree.typed is None:
            return None
        if len(args) == 1:
            return coerce_for(tree, args[0])
        return _plain(tree)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(tree, dict):
        return _coerce_model(tree, annotation)
    if origin is list and isinstance(tree, list):
        (item,) = typing.get_args(annotation) or (Any,)
        return [coerce_for(x, item) for x in tree]
    if origin is dict and isinstance(tree, dict):
        _k, val = typing.get_args(annotation) or (str, Any)
        return {k: coerce_for(v, val) for k, v in tree.items()}
    return _plain(tree)


def _coerce_model(tree: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    by_key: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        alias = info.serialization_alias or info.alias or name
        by_key[alias] = info.annotation
        by_key[name] = info.annotation
    return {k: coerce_for(v, by_key[k]) if k in by_key else _plain(v) for k, v in tree.items()}


def validation_text(e: ValidationError) -> str:
    """One line per error, naming the field path."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in e.errors())


def budget_error(e: YamlBudgetError, what: str) -> LimitError:
    """The EdgeX refusal of a document over its YAML budget: 413 for its size, 400 for its structure."""
    cls = SizeLimitError if e.size else StructureLimitError
    return cls(f"{what}: {e.message}", limit=e.limit, field="file")


def load_profile_yaml(text: str | bytes, budget: YamlBudget = DEFAULT_BUDGET) -> DeviceProfile:
    """A DeviceProfile from YAML (or JSON) text, decoded the way yaml.v3 decodes it, within ``budget``.

    Raises:
        SizeLimitError: larger than the budget allows (413).
        ContractInvalidError: not YAML, not a mapping, over the budget's depth or alias expansion, or the profile
            fails validation (message names the field).
    """
    try:
        tree = compose_literal(text, budget)
    except YamlBudgetError as e:
        raise budget_error(e, "profile file") from None
    except yaml.YAMLError as e:
        raise ContractInvalidError(f"profile file is not valid YAML: {e}", field="file") from e
    if not isinstance(tree, dict):
        raise ContractInvalidError("profile file must be a YAML mapping with a top-level name", field="file")
    try:
        return DeviceProfile.model_validate(coerce_for(tree, DeviceProfile))
    except ValidationError as e:
        name = _plain(tree.get("name"))
        raise ContractInvalidError(f"profile {name!r}: {validation_text(e)}", field="profile") from e


def _read(text_or_path: str | Path) -> str:
    if isinstance(text_or_path, Path):
        return text_or_path.read_text(encoding="utf-8")
    if "\n" not in text_or_path and len(text_or_path) < 4096:
        try:
            if Path(text_or_path).is_file():
                return Path(text_or_path).read_text(encoding="utf-8")
        except (OSError, ValueError):  # one line of JSON is no file name (too long, NUL bytes)
            pass
    return text_or_path


def load_device_definitions(
    text_or_path: str | Path,
    *,
    service_name: str = "",
    admin_state: str = "UNLOCKED",
    operating_state: str = "UP",
    budget: YamlBudget = DEFAULT_BUDGET,
) -> list[Device]:
    """Devices from a definition file: YAML with a top-level ``deviceList:`` or a JSON array, within ``budget``.

    Like the device SDK, absent ``serviceName``/``adminState``/``operatingState`` are filled in.

    Raises:
        SizeLimitError: larger than the budget allows (413).
        ContractInvalidError: unreadable document, over the budget's depth or alias expansion, or an invalid
            device (message names the device and field).
    """
    text = _read(text_or_path)
    items: list[Any]
    if text.lstrip().startswith("["):
        data = text.encode("utf-8", "surrogatepass")
        check_size(len(data), budget.max_bytes, "device file", "MaxRequestSize")
        check_json_depth(data, budget.max_depth, "device file")
        try:
            raw = json.loads(text)
        except ValueError as e:
            raise ContractInvalidError(f"device file is not a valid JSON array: {e}", field="file") from e
        items = [coerce_for(_lit_tree(x), Device) for x in raw]
    else:
        try:
            tree = compose_literal(text, budget)
        except YamlBudgetError as e:
            raise budget_error(e, "device file") from None
        except yaml.YAMLError as e:
            raise ContractInvalidError(f"device file is not valid YAML: {e}", field="file") from e
        if not isinstance(tree, dict) or not isinstance(tree.get("deviceList"), list):
            raise ContractInvalidError("device file must have a top-level deviceList: array", field="deviceList")
        items = [coerce_for(x, Device) for x in tree["deviceList"]]
    devices: list[Device] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ContractInvalidError(f"deviceList[{i}] is not a mapping", field="deviceList")
        if service_name:
            item.setdefault("serviceName", service_name)
        item.setdefault("adminState", admin_state)
        item.setdefault("operatingState", operating_state)
        try:
            devices.append(Device.model_validate(item))
        except ValidationError as e:
            raise ContractInvalidError(
                f"deviceList[{i}] {item.get('name')!r}: {validation_text(e)}", field="deviceList"
            ) from e
    return devices


def _lit_tree(v: Any) -> Any:
    """JSON data as a literal tree (JSON keeps types: a number never fills a string field as text)."""
    if isinstance(v, dict):
        return {k: _lit_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_lit_tree(x) for x in v]
    return _Lit(v, v) if isinstance(v, str) else v
