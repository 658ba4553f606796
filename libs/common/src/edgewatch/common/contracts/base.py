"""Base request/response envelopes of the EdgeX REST API (dtos/common), JSON keys exactly as EdgeX emits."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, field_validator
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

    def to_json(self) -> bytes:
        """Serialise with EdgeX's keys and omitempty rules."""
        return self.model_dump_json(by_alias=True).encode()

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict with EdgeX's keys."""
        return self.model_dump(mode="json", by_alias=True)


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
