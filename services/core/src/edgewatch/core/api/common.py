"""Shared route helpers: 207 multi-status runner, EdgeX boolean query parsing, JSON responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError
from edgewatch.common.contracts.responses import item_error

__all__ = ["HasRequestId", "json_response", "multi_status", "parse_bool"]


class HasRequestId(Protocol):
    """A request with ``request_id``."""

    request_id: str


R = TypeVar("R", bound=HasRequestId)


async def multi_status(reqs: Sequence[R], handle: Callable[[R], Awaitable[dict[str, Any]]]) -> JSONResponse:
    """Run each item in order; an EdgeXError becomes that item's status (HTTP 207 overall)."""
    out: list[dict[str, Any]] = []
    for r in reqs:
        try:
            out.append(await handle(r))
        except EdgeXError as e:
            out.append(item_error(r.request_id, e))
    return JSONResponse(out, status_code=207)


def parse_bool(raw: str | None, name: str) -> bool:
    """Go ``strconv.ParseBool`` accepted spellings; absent = false.

    Raises:
        ContractInvalidError: anything else.
    """
    if raw is None or raw == "":
        return False
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ContractInvalidError(f"{name} {raw!r} is not a boolean", field=name)


def json_response(model: BaseModel, status: int = 200) -> JSONResponse:
    """A pydantic response body with EdgeX keys; ``statusCode`` is set to the HTTP status."""
    body = model.model_dump(mode="json", by_alias=True)
    if "statusCode" in body:
        body["statusCode"] = status
    return JSONResponse(body, status_code=status)
