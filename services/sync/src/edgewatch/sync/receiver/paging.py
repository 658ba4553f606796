"""EdgeX paging rules: offset >= 0, limit -1..MaxResultCount (-1 = MaxResultCount), 416 past the end."""

from __future__ import annotations

from edgewatch.common.contracts.errors import ContractInvalidError, RangeNotSatisfiableError

__all__ = ["check_offset", "resolve_limit"]


def resolve_limit(offset: int, limit: int, max_result_count: int) -> int:
    """Validate ``offset``/``limit`` and return the effective limit.

    Raises:
        ContractInvalidError: offset < 0, limit < -1 or limit > MaxResultCount (400).
    """
    if offset < 0:
        raise ContractInvalidError(f"offset: {offset} must be >= 0", field="offset")
    if limit < -1 or limit > max_result_count:
        raise ContractInvalidError(f"limit: {limit} must be between -1 and {max_result_count}", field="limit")
    return max_result_count if limit == -1 else limit


def check_offset(offset: int, total: int) -> None:
    """EdgeX answers 416 when offset is strictly greater than the total count.

    Raises:
        RangeNotSatisfiableError: offset > total.
    """
    if offset > total:
        raise RangeNotSatisfiableError(f"offset: {offset} is beyond the total count {total}", field="offset")
