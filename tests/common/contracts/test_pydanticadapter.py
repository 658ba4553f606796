"""contracts.pydanticadapter: construct() builds models pydantic treats as validated, and the import-time check
fails loudly when pydantic's decorator infos or the model_construct protocol change."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest
from pydantic import BaseModel, model_serializer

from edgewatch.common.contracts.pydanticadapter import (
    TESTED_VERSION,
    check_hooks,
    construct,
    has_custom_serialization,
)


class _Point(BaseModel):
    a: int
    b: str = ""


class _Custom(BaseModel):
    a: int

    @model_serializer
    def _dump(self) -> dict[str, Any]:
        return {"A": self.a}


def test_the_installed_pydantic_is_the_tested_series_and_passes_the_check() -> None:
    assert version("pydantic").rsplit(".", 1)[0] == TESTED_VERSION.rsplit(".", 1)[0]
    check_hooks()  # also ran at import


def test_construct_equals_validation_of_the_same_complete_fields() -> None:
    built = construct(_Point, {"a": 3, "b": "x"}, None)
    assert built == _Point(a=3, b="x") and built.model_dump() == {"a": 3, "b": "x"}
    assert built.model_fields_set == {"a", "b"}
    assert construct(_Point, {"a": 3, "b": "x"}, None, frozenset({"a"})).model_fields_set == {"a"}


def test_custom_serialization_is_detected_from_the_decorator_infos() -> None:
    assert has_custom_serialization(_Custom) and not has_custom_serialization(_Point)


class _Undecorated(BaseModel):
    a: int


class _OtherFields(BaseModel):
    z: int


class _NoDecoratorInfos(BaseModel):
    a: int


_NoDecoratorInfos.__pydantic_decorators__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"decorated": _Undecorated}, "_Undecorated.__pydantic_decorators__ does not list its serializer"),
        ({"decorated": _NoDecoratorInfos}, "_NoDecoratorInfos.__pydantic_decorators__.field_serializers is not a dict"),
        ({"plain": _OtherFields}, "a _OtherFields built like model_construct fails: ValidationError"),
    ],
)
def test_check_fails_loudly_naming_the_version_and_the_hook(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ImportError) as e:
        check_hooks(**kwargs)
    assert needle in str(e.value)
    assert f"pydantic {version('pydantic')} (edgewatch is tested with {TESTED_VERSION})" in str(e.value)
