"""EdgeX paging shared by core and the receiver: query strings or parsed ints, 400 on bad values, 416 past the end."""

from __future__ import annotations

import pytest

from edgewatch.common.contracts.errors import ContractInvalidError, RangeNotSatisfiableError
from edgewatch.common.service.paging import Page, check_offset, page_of, parse_page


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [
        (None, None, Page(0, 20)),
        ("", "", Page(0, 20)),
        ("5", "10", Page(5, 10)),
        (5, 10, Page(5, 10)),
        (0, -1, Page(0, 50)),
        ("0", "-1", Page(0, 50)),
        (0, 0, Page(0, 0)),
        (0, 50, Page(0, 50)),
    ],
)
def test_parse_page_accepts_strings_and_ints_and_resolves_minus_one(
    offset: str | int | None, limit: str | int | None, expected: Page
) -> None:
    assert parse_page(offset, limit, 50) == expected


@pytest.mark.parametrize(
    ("offset", "limit", "field"),
    [(-1, 10, "offset"), ("x", 10, "offset"), (0, -2, "limit"), (0, 51, "limit"), ("0", "many", "limit")],
)
def test_parse_page_rejects_bad_values_naming_the_field(offset: str | int, limit: str | int, field: str) -> None:
    with pytest.raises(ContractInvalidError) as err:
        parse_page(offset, limit, 50)
    assert err.value.field == field


def test_offset_equal_to_the_total_is_an_empty_page_and_past_it_is_416() -> None:
    check_offset(3, 3)
    assert page_of([1, 2, 3], Page(3, 10)) == ([], 3)
    assert page_of([1, 2, 3, 4], Page(1, 2), keep=lambda x: x % 2 == 0) == ([4], 2)
    with pytest.raises(RangeNotSatisfiableError):
        check_offset(4, 3)
    with pytest.raises(RangeNotSatisfiableError):
        page_of([1, 2, 3], Page(4, 10))
