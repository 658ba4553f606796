"""Errors raised by protocol code, each carrying the device / resource it concerns.

Hierarchy::

    EdgeXError (edgewatch.common.contracts.errors)
      ProtocolError                     base; kind decides the HTTP status
        ProfileConfigError    400       a profile/device attribute is invalid (found at load time)
        ValueRangeError       400       a value to write is outside minimum/maximum or the raw type's range
        TransformOverflowError 500      a read transform overflowed the value type (EdgeX Overflow)

A service that uses this code derives its own errors from :class:`ProtocolError` (edgewatch-ingest: ``IngestError``),
so one ``except ProtocolError`` catches both.
"""

from __future__ import annotations

from edgewatch.common.contracts.errors import EdgeXError, ErrorKind

__all__ = ["ProfileConfigError", "ProtocolError", "TransformOverflowError", "ValueRangeError"]


class ProtocolError(EdgeXError):
    """Base error about one device / resource; the message is prefixed ``device/resource: ``."""

    kind = ErrorKind.SERVER

    def __init__(self, message: str, *, device: str = "", resource: str = "", kind: ErrorKind | None = None) -> None:
        prefix = "/".join(p for p in (device, resource) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message, kind=kind, field=resource or None)
        self.device = device
        self.resource = resource


class ProfileConfigError(ProtocolError):
    """A profile attribute or device protocol property is invalid (raised when the profile/device loads)."""

    kind = ErrorKind.CONTRACT_INVALID


class ValueRangeError(ProtocolError):
    """A value to write is outside minimum/maximum or cannot be represented by the raw type."""

    kind = ErrorKind.CONTRACT_INVALID


class TransformOverflowError(ProtocolError):
    """A read transform produced a value the value type cannot hold (EdgeX answers 500 Overflow)."""

    kind = ErrorKind.OVERFLOW
