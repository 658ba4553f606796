"""Resource-name patterns match with RE2 (Go's regexp, as EdgeX): catastrophic backtracking patterns answer at
once, patterns RE2 cannot compile (or too long) match nothing."""

from __future__ import annotations

import pytest

from edgewatch.common.contracts.namepattern import MAX_PATTERN, compile_pattern, fullmatches

NAMES = ["Temperature", "TempSetpoint", "Pressure", "a" * 5000 + "b"]


@pytest.mark.parametrize(
    ("pattern", "matched"),
    [
        ("Temp.*", ["Temperature", "TempSetpoint"]),
        ("Pressure", ["Pressure"]),
        ("Press", []),  # a full match, as the device SDK requires
        ("(a|aa)+$", []),  # exponential in Python's re against the 5001-character name; linear in RE2
        ("(a+)+b", ["a" * 5000 + "b"]),
        ("(?=Temp).*", []),  # lookaround is not RE2 (nor Go): matches nothing
        ("(Temp", []),
    ],
)
def test_patterns_fullmatch_names_with_re2_semantics(pattern: str, matched: list[str]) -> None:
    assert fullmatches(pattern, NAMES) == matched


def test_overlong_patterns_do_not_compile() -> None:
    assert compile_pattern("a" * MAX_PATTERN) is not None
    assert compile_pattern("a" * (MAX_PATTERN + 1)) is None
