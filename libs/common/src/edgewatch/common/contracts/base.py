"""Base request/response envelopes of the EdgeX REST API (dtos/common), JSON keys exactly as EdgeX emits."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "API_VERSION",
    "BaseRequest",
    "BaseResponse",
    "BaseWithIdResponse",
    "BaseWithTotalCountResponse",
    "CountResponse",
    "EdgeXModel",
    "empty",
    "fold_keys",
]

API_VERSION = "v3"


def empty(v: Any) -> bool:
    """``omitempty``: Go leaves out zero values (empty string, 0, None, empty map/list)."""
    return v is None or v == "" or v == 0 or v == {} or v == []


class EdgeXModel(BaseModel):
    """Base of every EdgeX DTO: camelCase keys, unknown keys ignored, input keys matched case-insensitively."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(serialization_alias=to_camel, validation_alias=to_camel),
        populate_by_name=True,
        extra="ignore",
    )

    # Per-class key tables for Go-style case-insensitive input matching, built once in __pydantic_init_subclass__.
    _edgex_exact_keys: ClassVar[frozenset[str]] = frozenset()
    _edgex_folded_keys: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._build_key_tables()

    @classmethod
    def _build_key_tables(cls) -> None:
        exact: set[str] = set()
        folded: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            keys = [name, field.alias or name]
            if isinstance(field.validation_alias, str):
                keys[1] = field.validation_alias
            elif isinstance(field.validation_alias, AliasChoices):
                keys += [choice for choice in field.validation_alias.choices if isinstance(choice, str)]
            exact.update(keys)
            folded.setdefault(name.lower(), name)
            for key in keys[1:]:
                folded[key.lower()] = key
        cls._edgex_exact_keys = frozenset(exact)
        cls._edgex_folded_keys = folded

    @model_validator(mode="wrap")
    @classmethod
    def _match_keys_case_insensitively(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Go ``encoding/json``: a key matches a field's name case-insensitively (exact keys skip the rewrite)."""
        if type(data) is dict:
            exact = cls._edgex_exact_keys
            for key in data:
                if key not in exact:
                    data = fold_keys(data, exact, cls._edgex_folded_keys)
                    break
        return handler(data)

    @classmethod
    def from_json(cls, data: bytes | bytearray | str) -> Self:
        """Validate a JSON document with EdgeX's keys (matched case-insensitively; pydantic ValidationError)."""
        return cls.model_validate_json(data)

    def to_json(self) -> bytes:
        """Serialise with EdgeX's keys and omitempty rules."""
        return self.model_dump_json(by_alias=True).encode()

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict with EdgeX's keys."""
        return self.model_dump(mode="json", by_alias=True)


def fold_keys(data: dict[str, Any], exact: frozenset[str], folded: dict[str, str]) -> dict[str, Any]:
    """Rename keys that match a field case-insensitively to the field's key; others are kept as they are."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in exact or not isinstance(key, str):
            out[key] = value
        else:
            out[folded.get(key.lower(), key)] = value
    return out


class BaseRequest(EdgeXModel):
    """``{apiVersion, requestId}``; requestId must be empty or a UUID (400 otherwise)."""

    api_version: str = Field(API_VERSION)
    request_id: str = Field("", exclude_if=empty)

    @field_validator("request_id")
    @classmethod
    def _uuid_or_empty(cls, v: str) -> str:
        if v:
            try:
                uuid.UUID(v)
            except ValueError as e:
                raise ValueError(f"requestId {v!r} is not a UUID") from e
        return v


class BaseResponse(EdgeXModel):
    """``{apiVersion, requestId?, message?, statusCode}``."""

    api_version: str = Field(API_VERSION)
    request_id: str = Field("", exclude_if=empty)
    message: str = Field("", exclude_if=empty)
    status_code: int = 200


class BaseWithIdResponse(BaseResponse):
    """Adds ``id`` (add responses)."""

    id: str = Field("", exclude_if=empty)


class BaseWithTotalCountResponse(BaseResponse):
    """Adds ``totalCount`` (always present)."""

    total_count: int = 0


class CountResponse(BaseResponse):
    """Adds ``count``."""

    count: int = 0
