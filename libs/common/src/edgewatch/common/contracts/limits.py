"""Refusals by a limit (413 size, 400 structure) and cheap checks run before any parsing work.

``limit`` on each error names the setting (``MaxRequestSize``, ``MaxDocumentDepth``, ...): it is the label of
``edgewatch_limit_refusals`` and appears in the EdgeX error message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgewatch.common.contracts.errors import ContractInvalidError, EdgeXError, ErrorKind

__all__ = [
    "LimitError",
    "SizeLimitError",
    "StructureLimitError",
    "check_json_depth",
    "check_object_depth",
    "check_size",
    "json_depth",
    "json_depth_exceeds",
]


class LimitError(EdgeXError):
    """Base of refusals by a limit; ``limit`` names it (the metric label and the setting in the message)."""

    def __init__(self, message: str, *, limit: str, kind: ErrorKind | None = None, field: str | None = None) -> None:
        super().__init__(message, kind=kind, field=field)
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:  # survives the trip back from a parse worker
        return (_rebuild, (type(self), self.message, self.limit, self.field))


def _rebuild(cls: type[LimitError], message: str, limit: str, field: str | None) -> LimitError:
    return cls(message, limit=limit, field=field)


class SizeLimitError(LimitError):
    """413: an input is larger (or, decompressed or expanded, would be larger) than a configured limit."""

    kind = ErrorKind.LIMIT_EXCEEDED


class StructureLimitError(LimitError, ContractInvalidError):
    """400: a document nests deeper than allowed, or its structure exceeds a budget (aliases, graph size)."""

    kind = ErrorKind.CONTRACT_INVALID


def check_size(size: int, max_bytes: int, what: str, limit: str) -> None:
    """Refuse ``size`` bytes over ``max_bytes`` (0 = no limit).

    Raises:
        SizeLimitError: over the limit; the message names ``what`` and the setting ``limit``.
    """
    if max_bytes and size > max_bytes:
        raise SizeLimitError(f"{what}: {size} bytes exceeds {limit} ({max_bytes} bytes)", limit=limit, field=what)


_STEP = np.zeros(256, np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1
_NOT_STRUCTURE = bytes(i for i in range(256) if i not in b'[]{}"')


def json_depth(data: bytes) -> int:
    """How deep the JSON text ``data`` nests arrays and objects, by vectorised scans (about 4 ms per MiB).

    Escaped backslashes and quotes are removed, everything but brackets and quotes is dropped, brackets inside
    strings (odd running count of quotes) are ignored, and the depth is the highest running sum of +1 for an
    opening and -1 for a closing bracket. Unbalanced text counts its unclosed brackets (a parser recurses into
    them before it fails).
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    data = data.translate(None, _NOT_STRUCTURE)
    if not data:
        return 0
    codes = np.frombuffer(data, np.uint8)
    step = _STEP[codes]
    if b'"' in data:
        step[(np.cumsum(codes == 0x22, dtype=np.uint8) & 1).view(bool)] = 0
    return max(0, int(np.cumsum(step, dtype=np.int32).max()))


def json_depth_exceeds(data: bytes, max_depth: int) -> bool:
    """Whether the JSON text ``data`` nests deeper than ``max_depth`` (no scan when it has too few brackets)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    return json_depth(data) > max_depth


def check_json_depth(data: bytes, max_depth: int, what: str = "body") -> None:
    """Refuse JSON nested deeper than ``max_depth``.

    Raises:
        StructureLimitError: too deep (400), naming ``Service.MaxDocumentDepth``.
    """
    if json_depth_exceeds(data, max_depth):
        raise StructureLimitError(
            f"{what}: JSON nests deeper than Service.MaxDocumentDepth ({max_depth})",
            limit="MaxDocumentDepth",
            field=what,
        )


def _deeper(obj: Any, budget: int) -> bool:
    if isinstance(obj, dict):
        children: Any = (*obj.keys(), *obj.values())
    elif isinstance(obj, (list, tuple)):
        children = obj
    else:
        return False
    if budget == 0:
        return True
    return any(_deeper(c, budget - 1) for c in children)


def check_object_depth(obj: Any, max_depth: int, what: str = "body") -> None:
    """Refuse a decoded document (CBOR, msgpack, YAML) whose maps/arrays nest deeper than ``max_depth``.

    Raises:
        StructureLimitError: too deep (400).
    """
    if _deeper(obj, max_depth):
        raise StructureLimitError(
            f"{what}: document nests deeper than Service.MaxDocumentDepth ({max_depth})",
            limit="MaxDocumentDepth",
            field=what,
        )
