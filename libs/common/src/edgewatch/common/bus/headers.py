"""NATS message headers that keep repeated keys (EdgeX sends one ``QueryParams: k:v`` header per parameter).

:func:`parse_header_block` is the header parser of every suite connection (``bus.natsadapter`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Headers", "parse_header_block"]

_WS = " \t\n\r\x0b\x0c"
"""ASCII whitespace, as ``bytes.strip()`` removes it."""


class Headers(dict[str, str]):
    """A ``dict`` of the first value per key (like Go's ``Header.Get``), plus every value via :meth:`getall`.

    ``items()`` yields every ``(key, value)`` pair, repeated keys included, which is what nats-py iterates when it
    writes a header block; so a ``Headers`` passed to ``publish`` puts repeated keys on the wire.
    """

    __slots__ = ("_more",)

    def __init__(self, *args: Any, **kwargs: str) -> None:
        super().__init__(*args, **kwargs)
        self._more: dict[str, list[str]] = {}

    def add(self, key: str, value: str) -> None:
        """Append ``value`` to ``key`` (Go's ``Header.Add``)."""
        if key in self:
            self._more.setdefault(key, []).append(value)
        else:
            dict.__setitem__(self, key, value)

    def getall(self, key: str) -> list[str]:
        """Every value of ``key`` in wire order (Go's ``Header.Values``); ``[]`` when absent."""
        if key not in self:
            return []
        return [self[key], *self._more.get(key, ())]

    def __setitem__(self, key: str, value: str) -> None:
        self._more.pop(key, None)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._more.pop(key, None)
        dict.__delitem__(self, key)

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every pair, repeated keys included (the wire view)."""
        if not self._more:
            return list(dict.items(self))
        return [(k, v) for k in self for v in self.getall(k)]

    def copy(self) -> Headers:
        """A copy that keeps repeated values."""
        h = Headers(self)
        h._more = {k: list(v) for k, v in self._more.items()}
        return h

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Build from ``(key, value)`` pairs, keeping repeats in order."""
        h = cls()
        for k, v in pairs:
            h.add(k, v)
        return h


def parse_header_block(raw: bytes) -> dict[str, str]:
    """Parse the ``Name: Value\\r\\n`` lines of a NATS header block (the one parser of every suite connection).

    Names and values lose ASCII whitespace at both ends; a name that is empty, contains whitespace or is not
    ASCII is skipped; values are UTF-8 with invalid bytes replaced. That is nats-py's own result, except that a
    line with an empty name is dropped (nats-py keeps it under ``""``) and a repeated name keeps every value.

    Returns:
        A plain ``dict`` (the common case: one decode of the block, no per-message object beyond the dict), or,
        once a name repeats, a :class:`Headers` holding the first value per name and every value via
        ``getall`` (nats-py keeps only the last).
    """
    out: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip(_WS)
        if not name.isascii() or len(name.split()) != 1:
            continue  # empty, containing whitespace, or not ASCII: not a header name
        if name in out:
            if not isinstance(out, Headers):
                out = Headers(out)
            out.add(name, value.strip(_WS))
        else:
            out[name] = value.strip(_WS)
    return out
