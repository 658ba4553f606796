"""EdgeX paging of REST list queries: offset/limit/labels checks (400), offset > total (416), and the page slice.

Used by core's APIs and by the receiver's EdgeX-shaped queries, so both answer paging as EdgeX does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from edgewatch.common.contracts.errors import ContractInvalidError, RangeNotSatisfiableError

__all__ = ["Page", "check_offset", "page_of", "parse_labels", "parse_page"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    """A validated ``offset``/``limit`` pair (limit already resolved from -1)."""

    offset: int
    limit: int


def _int(raw: str | int | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, int):
        return raw
    try:
        return int(raw)
    except ValueError:
        raise ContractInvalidError(f"{name} {raw!r} is not an integer", field=name) from None


def parse_page(offset: str | int | None, limit: str | int | None, max_result_count: int) -> Page:
    """Validate paging query parameters as EdgeX does (raw query strings, or ints a route already parsed).

    Raises:
        ContractInvalidError: not an int, offset < 0, limit < -1 or limit > MaxResultCount.
    """
    off = _int(offset, "offset", 0)
    lim = _int(limit, "limit", 20)
    if off < 0:
        raise ContractInvalidError(f"offset {off} must be >= 0", field="offset")
    if lim < -1:
        raise ContractInvalidError(f"limit {lim} must be >= -1", field="limit")
    if lim == -1:
        lim = max_result_count
    if lim > max_result_count:
        raise ContractInvalidError(f"limit {lim} exceeds MaxResultCount {max_result_count}", field="limit")
    return Page(off, lim)


def parse_labels(labels: str | None) -> list[str]:
    """``labels=a,b`` -> ``["a", "b"]`` (empty items dropped)."""
    return [x.strip() for x in (labels or "").split(",") if x.strip()]


def check_offset(offset: int, total: int) -> None:
    """EdgeX answers 416 when offset is strictly greater than the total count (offset == total: an empty page).

    Raises:
        RangeNotSatisfiableError: offset > total.
    """
    if offset > total:
        raise RangeNotSatisfiableError(f"offset {offset} is beyond the total count {total}", field="offset")


def page_of(items: Sequence[T], page: Page, keep: Callable[[T], bool] | None = None) -> tuple[list[T], int]:
    """The page and the total count before paging.

    Raises:
        RangeNotSatisfiableError: offset > total (offset == total gives an empty page).
    """
    chosen = [x for x in items if keep is None or keep(x)]
    total = len(chosen)
    check_offset(page.offset, total)
    return chosen[page.offset : page.offset + page.limit], total
