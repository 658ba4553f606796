"""Resource-name patterns (autoEvents ``sourceName``, ``ds-regexcmd``) matched as EdgeX matches them: RE2.

EdgeX is Go, whose regexp is RE2: linear time, no backreferences or lookaround. Python's ``re`` backtracks, so
``(a|aa)+$`` against a long resource name runs for minutes, and the pattern comes from whoever may add a device
or send a command (found by fuzzing core's device POST). Patterns compile with google-re2, bounded in length
and in the memory RE2 may use; one that does not compile matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["MAX_PATTERN", "compile_pattern", "fullmatches"]

MAX_PATTERN = 1024
"""Longest pattern compiled (characters); a longer one matches nothing."""


@lru_cache(maxsize=1)
def _re2() -> tuple[Any, Any]:
    """google-re2 and its options, imported at the first pattern (about 2.5 MB a service without patterns saves)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # an invalid pattern is an answer (no match), not a log line
    options.max_mem = 8 << 20
    return re2, options


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any | None:
    """The compiled RE2 pattern, or None when it is too long or not valid RE2 syntax."""
    if len(pattern) > MAX_PATTERN:
        return None
    re2, options = _re2()
    try:
        return re2.compile(pattern, options)
    except (re2.error, TypeError, ValueError):
        return None


def fullmatches(pattern: str, names: Iterable[str]) -> list[str]:
    """The names ``pattern`` matches entirely (none when it does not compile)."""
    rx = compile_pattern(pattern)
    return [] if rx is None else [n for n in names if rx.fullmatch(n) is not None]
