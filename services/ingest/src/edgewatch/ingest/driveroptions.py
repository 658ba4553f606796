"""Each protocol's driver options, built at the first device that uses the protocol.

Building OPC UA options imports asyncua and cryptography (about 23 MB of RSS), EtherCAT's imports pysoem and the
master (about 2 MB): a gateway whose devices are all Modbus pays for neither. Protocols that share options
(``modbus-tcp`` and ``modbus-rtu``) share one builder, so they get one object. What a builder opens (a session or
master pool) it registers with :meth:`LazyDriverOptions.on_close`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping

__all__ = ["LazyDriverOptions"]


class LazyDriverOptions(Mapping[str, object]):
    """``protocol -> options``, each built by its builder on first lookup and kept."""

    def __init__(self, builders: Mapping[str, Callable[[], object]]) -> None:
        self._builders = dict(builders)
        self._built: dict[Callable[[], object], object] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def __getitem__(self, protocol: str) -> object:
        build = self._builders[protocol]
        if build not in self._built:
            self._built[build] = build()
        return self._built[build]

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)

    def built(self) -> list[str]:
        """Protocols whose options exist (they were looked up)."""
        return [p for p, b in self._builders.items() if b in self._built]

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Register what :meth:`close` must close (called by a builder for the pool it made)."""
        self._closers.append(closer)

    async def close(self) -> None:
        """Close what the built options hold, in the order they were built."""
        for closer in self._closers:
            await closer()
