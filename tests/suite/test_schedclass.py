"""CPU lists and the background CPU set of ``edgewatch up`` (schedclass.background_cpus)."""

from __future__ import annotations

import pytest

from edgewatch.suite.schedclass import actuation_cpus, background_cpus, parse_cpus


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("1", {1}), ("2,3", {2, 3}), ("2-5,7", {2, 3, 4, 5, 7}), (" 0 , 3-3 ", {0, 3})],
)
def test_cpu_lists_parse_as_the_kernel_writes_them(text: str, cpus: set[int]) -> None:
    assert parse_cpus(text) == frozenset(cpus)


@pytest.mark.parametrize(("text", "part"), [("a", "'a'"), ("1-", "'1-'"), ("3-1", "'3-1'"), ("1,,2", "''")])
def test_a_malformed_cpu_list_names_the_part(text: str, part: str) -> None:
    with pytest.raises(ValueError, match=part):
        parse_cpus(text)


def test_auto_confines_the_background_to_the_upper_half() -> None:
    assert background_cpus("auto", frozenset({0, 1})) == {1}
    assert background_cpus("auto", frozenset({0, 1, 2, 3})) == {2, 3}
    assert background_cpus("auto", frozenset({4, 6, 9})) == {6, 9}
    assert background_cpus("auto", frozenset({0})) is None  # one CPU: nothing to keep free
    assert background_cpus("all", frozenset({0, 1, 2, 3})) is None


def test_an_explicit_set_must_be_available_and_leave_a_cpu_free() -> None:
    assert background_cpus("3", frozenset({0, 1, 2, 3})) == {3}
    with pytest.raises(ValueError, match=r"CPUs \[4\] are not available"):
        background_cpus("3-4", frozenset({0, 1, 2, 3}))
    with pytest.raises(ValueError, match="at least one CPU"):
        background_cpus("0-1", frozenset({0, 1}))


def test_a_real_time_actuation_path_keeps_to_the_cpus_the_background_leaves() -> None:
    assert actuation_cpus(frozenset({1}), frozenset({0, 1})) == {0}
    assert actuation_cpus(frozenset({2, 3}), frozenset({0, 1, 2, 3})) == {0, 1}
    assert actuation_cpus(None, frozenset({0, 1})) is None  # background not confined: neither is the path
    assert actuation_cpus(frozenset({0, 1}), frozenset({0, 1})) is None  # nothing left: not confined
