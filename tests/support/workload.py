"""Functions parse-worker tests run in a worker process (importable there by module path)."""

from __future__ import annotations

import time

from edgewatch.common.contracts.errors import ContractInvalidError

__all__ = ["allocate", "fail_contract", "spin", "square"]


def square(x: int) -> int:
    """x squared."""
    return x * x


def fail_contract(field: str) -> None:
    """Raise a 400 naming ``field``."""
    raise ContractInvalidError(f"{field}: bad", field=field)


def spin(seconds: float) -> str:
    """Burn CPU for ``seconds`` (a parse that takes too long)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def allocate(mb: int) -> int:
    """Allocate ``mb`` MiB at once (an input that needs too much memory)."""
    return len(bytearray(mb * 1024 * 1024))
