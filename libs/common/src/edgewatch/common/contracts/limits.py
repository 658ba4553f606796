"""Refusals by a limit (413 size, 400 structure) and cheap checks run before any parsing work.

``limit`` on each error names the setting (``MaxRequestSize``, ``MaxDocumentDepth``, ...): it is the label of
``edgewatch_limit_refusals`` and appears in the EdgeX error message.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

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


_NOT_STRUCTURE = bytes(i for i in range(256) if i not in b'[]{}"')
_STRING = re.compile(rb'"[^"]*(?:"|\Z)')  # a string (brackets only left inside), or an unclosed one to the end
_STEP_OF = [0] * 256
_STEP_OF[ord("[")] = _STEP_OF[ord("{")] = 1
_STEP_OF[ord("]")] = _STEP_OF[ord("}")] = -1
# Above this many brackets and quotes the scan runs vectorised in numpy (imported then): the plain scan costs about
# 70 ns a byte, so services that only ever see small documents never load numpy (about 16 MB of RSS each).
_VECTOR_MIN = 64 * 1024


def json_depth(data: bytes) -> int:
    """How deep the JSON text ``data`` nests arrays and objects, by scans of its brackets and quotes only.

    Escaped backslashes and quotes are removed, everything but brackets and quotes is dropped, brackets inside
    strings (odd running count of quotes) are ignored, and the depth is the highest running sum of +1 for an
    opening and -1 for a closing bracket. Unbalanced text counts its unclosed brackets (a parser recurses into
    them before it fails). Large bracket streams are scanned vectorised (about 4 ms per MiB).
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    data = data.translate(None, _NOT_STRUCTURE)
    if not data:
        return 0
    if len(data) > _VECTOR_MIN:
        return _json_depth_vectorised(data)
    if b'"' in data:
        data = _STRING.sub(b"", data)
        if not data:
            return 0
    return max(0, max(accumulate(map(_STEP_OF.__getitem__, data))))


def _json_depth_vectorised(data: bytes) -> int:
    """:func:`json_depth` of brackets and quotes only, in numpy."""
    import numpy as np

    codes = np.frombuffer(data, np.uint8)
    step = np.array(_STEP_OF, np.int8)[codes]
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
