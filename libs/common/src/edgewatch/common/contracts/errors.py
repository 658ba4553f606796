"""EdgeX error kinds and their HTTP status, mapped once (go-mod-core-contracts errors/types.go).

Hierarchy::

    EdgeXError(kind, message, field)        base error of the suite: carries an ErrorKind
      ContractInvalidError                  400: a DTO failed validation; names the field
      NotFoundError                         404: EntityDoesNotExist
      ConflictError                         409: DuplicateName / StatusConflict
      RangeNotSatisfiableError              416: offset > total
      LockedError                           423: ServiceLocked (device LOCKED or DOWN)
      ServiceUnavailableError               503: a responder did not answer in time
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "ConflictError",
    "ContractInvalidError",
    "EdgeXError",
    "ErrorKind",
    "LockedError",
    "NotFoundError",
    "RangeNotSatisfiableError",
    "ServiceUnavailableError",
    "http_status",
]


class ErrorKind(StrEnum):
    """EdgeX error kinds (names as in go-mod-core-contracts)."""

    CONTRACT_INVALID = "ContractInvalid"
    INVALID_ID = "InvalidId"
    ENTITY_DOES_NOT_EXIST = "EntityDoesNotExist"
    STATUS_CONFLICT = "StatusConflict"
    DUPLICATE_NAME = "DuplicateName"
    LIMIT_EXCEEDED = "LimitExceeded"
    RANGE_NOT_SATISFIABLE = "RangeNotSatisfiable"
    SERVICE_LOCKED = "ServiceLocked"
    NOT_ALLOWED = "NotAllowed"
    COMMUNICATION = "Communication"
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    NOT_IMPLEMENTED = "NotImplemented"
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    IO_ERROR = "IOError"
    UNKNOWN = "Unknown"
    DATABASE = "Database"
    SERVER = "Server"
    OVERFLOW = "Overflow"
    NAN = "NaN"


_STATUS: Final[dict[ErrorKind, int]] = {
    ErrorKind.CONTRACT_INVALID: 400,
    ErrorKind.INVALID_ID: 400,
    ErrorKind.ENTITY_DOES_NOT_EXIST: 404,
    ErrorKind.STATUS_CONFLICT: 409,
    ErrorKind.DUPLICATE_NAME: 409,
    ErrorKind.LIMIT_EXCEEDED: 413,
    ErrorKind.RANGE_NOT_SATISFIABLE: 416,
    ErrorKind.SERVICE_LOCKED: 423,
    ErrorKind.NOT_ALLOWED: 405,
    ErrorKind.COMMUNICATION: 502,
    ErrorKind.SERVICE_UNAVAILABLE: 503,
    ErrorKind.NOT_IMPLEMENTED: 501,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.IO_ERROR: 403,
    ErrorKind.UNKNOWN: 500,
    ErrorKind.DATABASE: 500,
    ErrorKind.SERVER: 500,
    ErrorKind.OVERFLOW: 500,
    ErrorKind.NAN: 500,
}


def http_status(kind: ErrorKind) -> int:
    """The HTTP status EdgeX answers for an error kind."""
    return _STATUS[kind]


class EdgeXError(Exception):
    """Base error of the suite; ``kind`` decides the HTTP status, ``field`` names the offending input."""

    kind: ErrorKind = ErrorKind.SERVER

    def __init__(self, message: str, *, kind: ErrorKind | None = None, field: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.message = message
        self.field = field

    @property
    def status(self) -> int:
        """HTTP status for this error."""
        return http_status(self.kind)


class ContractInvalidError(EdgeXError):
    """400: the request failed validation."""

    kind = ErrorKind.CONTRACT_INVALID


class NotFoundError(EdgeXError):
    """404: no entity with that name or id."""

    kind = ErrorKind.ENTITY_DOES_NOT_EXIST


class ConflictError(EdgeXError):
    """409: duplicate name or id, or delete-in-use."""

    kind = ErrorKind.DUPLICATE_NAME


class RangeNotSatisfiableError(EdgeXError):
    """416: offset beyond the total count."""

    kind = ErrorKind.RANGE_NOT_SATISFIABLE


class LockedError(EdgeXError):
    """423: the device or service is LOCKED, or the device is DOWN."""

    kind = ErrorKind.SERVICE_LOCKED


class ServiceUnavailableError(EdgeXError):
    """503: a responder (device service, core) did not answer in time."""

    kind = ErrorKind.SERVICE_UNAVAILABLE
