"""The pydantic internals the contracts rely on, checked at import against the tested pydantic (pinned to 2.14.x).

- ``cls.__pydantic_decorators__`` is a ``pydantic._internal`` object; the suite codec copies the attributes of a
  model instead of running pydantic's serializer only for models without field serializers, model serializers
  or computed fields, which :func:`has_custom_serialization` reads from it.
- :func:`construct` builds instances on the hot path (``Reading``, ``Event``, ``AddEventRequest``,
  ``FeatureVector``) the way ``model_construct`` does, without its per-field default handling: ``__dict__``,
  ``__pydantic_fields_set__``, ``__pydantic_extra__`` and ``__pydantic_private__`` (documented ``BaseModel``
  attributes) set with ``object.__setattr__``. ``Reading`` keeps its parsed value in ``__pydantic_private__``
  without declaring a private attribute.

:func:`check_hooks` runs at import: it reads the decorator infos of a probe model and builds one the
``model_construct`` way, then checks that pydantic dumps, compares and copies it like a validated one. A failure
raises ImportError naming the installed pydantic version and the hook.
"""

from __future__ import annotations

from collections.abc import Set
from importlib.metadata import version
from typing import Any, TypeVar

from pydantic import BaseModel, computed_field, field_serializer

__all__ = ["TESTED_VERSION", "check_hooks", "construct", "has_custom_serialization"]

TESTED_VERSION = "2.14.4"
"""The pydantic version these hooks are tested with (the pin allows its patch releases)."""

_DECORATOR_KINDS = ("field_serializers", "model_serializers", "computed_fields")

M = TypeVar("M", bound=BaseModel)


def construct(
    cls: type[M], fields: dict[str, Any], private: dict[str, Any] | None, fields_set: Set[str] | None = None
) -> M:
    """``model_construct`` for a complete field dict (no validation, no defaults to fill, no extras).

    ``fields_set`` defaults to the keys of ``fields``; ``private`` becomes ``__pydantic_private__``.
    """
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", set(fields) if fields_set is None else fields_set)
    object.__setattr__(model, "__pydantic_extra__", {} if cls.model_config.get("extra") == "allow" else None)
    object.__setattr__(model, "__pydantic_private__", private)
    return model


def has_custom_serialization(cls: type[BaseModel]) -> bool:
    """Whether ``model_dump`` of ``cls`` runs serializers or computed fields (so a plain attribute copy differs)."""
    deco = cls.__pydantic_decorators__
    return any(getattr(deco, kind) for kind in _DECORATOR_KINDS)


class _Plain(BaseModel):
    a: int
    b: str = ""


class _Decorated(BaseModel):
    a: int

    @field_serializer("a")
    def _twice(self, v: int) -> int:
        return 2 * v

    @computed_field  # type: ignore[prop-decorator]
    @property
    def c(self) -> int:
        return self.a


def _problems(plain: type[BaseModel], decorated: type[BaseModel]) -> list[str]:
    found: list[str] = []
    deco: Any = getattr(decorated, "__pydantic_decorators__", None)
    for kind in _DECORATOR_KINDS:
        if not isinstance(getattr(deco, kind, None), dict):
            found.append(f"{decorated.__name__}.__pydantic_decorators__.{kind} is not a dict")
    if not found and (not deco.field_serializers or not deco.computed_fields):
        found.append(f"{decorated.__name__}.__pydantic_decorators__ does not list its serializer and computed field")
    try:
        model = construct(plain, {"a": 1, "b": "x"}, {"_typed": 7})
        validated = plain(a=1, b="x")
        ok = model.model_dump() == validated.model_dump() and model.__dict__ == validated.__dict__
        copy = model.model_copy()
        ok = ok and model.model_fields_set == {"a", "b"} and (copy.__pydantic_private__ or {}).get("_typed") == 7
    except Exception as e:
        found.append(f"a {plain.__name__} built like model_construct fails: {type(e).__name__}: {e}")
    else:
        if not ok:
            found.append(f"a {plain.__name__} built like model_construct does not dump, compare or copy as validated")
    return found


def check_hooks(plain: type[BaseModel] = _Plain, decorated: type[BaseModel] = _Decorated) -> None:
    """Verify the pydantic internals above on probe models (``plain``: fields ``a: int, b: str``).

    Raises:
        ImportError: a hook is missing or behaves differently; the message names the installed pydantic version.
    """
    found = _problems(plain, decorated)
    if found:
        raise ImportError(
            f"pydantic {version('pydantic')} (edgewatch is tested with {TESTED_VERSION}) lacks what "
            f"edgewatch.common.contracts relies on: {'; '.join(found)}"
        )


check_hooks()
