"""Errors of the bus layer: a message that cannot be decoded, a JetStream asset that cannot be provisioned."""

from __future__ import annotations

from edgewatch.common.contracts.codec import MessageDecodeError

__all__ = ["BusDecodeError", "ProvisioningError"]


class BusDecodeError(MessageDecodeError):
    """A bus message (envelope, subject, headers) could not be decoded (dead-lettered, never fatal).

    The bus dead-letters every :class:`MessageDecodeError`: this one and the contracts codec's own.
    """


class ProvisioningError(RuntimeError):
    """A JetStream stream, consumer or KV bucket exists with a configuration that cannot be updated in place.

    Carries ``name`` (the asset) and ``diff`` (field -> (wanted, found)); nothing is ever deleted to resolve it.
    """

    def __init__(self, name: str, message: str, diff: dict[str, tuple[object, object]] | None = None) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.diff = diff or {}
