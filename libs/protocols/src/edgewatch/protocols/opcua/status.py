"""OPC UA StatusCodes as EdgeX sees them: reading tags, quality classes and the EdgeX error kind of a refusal."""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import Final

from asyncua import ua
from asyncua.ua.status_codes import get_name_and_doc

from edgewatch.common.contracts.errors import ErrorKind

__all__ = [
    "STATUS_CODE_TAG",
    "STATUS_TAG",
    "error_kind",
    "is_bad",
    "is_node_error",
    "status_name",
    "status_tags",
    "status_text",
]

STATUS_TAG: Final = "opcuaStatus"
"""Reading tag with the StatusCode's symbolic name (``Good``, ``UncertainLastUsableValue``, ``BadSensorFailure``)."""
STATUS_CODE_TAG: Final = "opcuaStatusCode"
"""Reading tag with the StatusCode as 8 hex digits (``0x00000000``)."""

S = ua.StatusCodes

# A node the server refuses for what it is (not for the current quality of its value): an error to the caller,
# never a reading.
_NODE_ERRORS: Final = frozenset(
    {
        S.BadNodeIdUnknown,
        S.BadNodeIdInvalid,
        S.BadAttributeIdInvalid,
        S.BadNotReadable,
        S.BadNotWritable,
        S.BadUserAccessDenied,
        S.BadNotSupported,
        S.BadWriteNotSupported,
        S.BadTypeMismatch,
        S.BadOutOfRange,
        S.BadIndexRangeInvalid,
        S.BadDataEncodingUnsupported,
        S.BadMethodInvalid,
        S.BadArgumentsMissing,
        S.BadInvalidArgument,
        S.BadTooManyArguments,
    }
)

_KINDS: Final = MappingProxyType(
    {
        S.BadNodeIdUnknown: ErrorKind.ENTITY_DOES_NOT_EXIST,
        S.BadNodeIdInvalid: ErrorKind.ENTITY_DOES_NOT_EXIST,
        S.BadMethodInvalid: ErrorKind.ENTITY_DOES_NOT_EXIST,
        S.BadAttributeIdInvalid: ErrorKind.CONTRACT_INVALID,
        S.BadNotReadable: ErrorKind.NOT_ALLOWED,
        S.BadNotWritable: ErrorKind.NOT_ALLOWED,
        S.BadWriteNotSupported: ErrorKind.NOT_ALLOWED,
        S.BadNotSupported: ErrorKind.NOT_ALLOWED,
        S.BadUserAccessDenied: ErrorKind.FORBIDDEN,
        S.BadTypeMismatch: ErrorKind.CONTRACT_INVALID,
        S.BadOutOfRange: ErrorKind.CONTRACT_INVALID,
        S.BadIndexRangeInvalid: ErrorKind.CONTRACT_INVALID,
        S.BadDataEncodingUnsupported: ErrorKind.CONTRACT_INVALID,
        S.BadArgumentsMissing: ErrorKind.CONTRACT_INVALID,
        S.BadInvalidArgument: ErrorKind.CONTRACT_INVALID,
        S.BadTooManyArguments: ErrorKind.CONTRACT_INVALID,
        S.BadTimeout: ErrorKind.SERVICE_UNAVAILABLE,
        S.BadCommunicationError: ErrorKind.SERVICE_UNAVAILABLE,
        S.BadServerHalted: ErrorKind.SERVICE_UNAVAILABLE,
        S.BadShutdown: ErrorKind.SERVICE_UNAVAILABLE,
        S.BadTooManyOperations: ErrorKind.SERVICE_UNAVAILABLE,
    }
)


def _code(status: int | ua.StatusCode) -> int:
    return int(status.value) if isinstance(status, ua.StatusCode) else int(status)


def status_name(status: int | ua.StatusCode) -> str:
    """Symbolic name (``BadNodeIdUnknown``); unknown codes give their severity (``Bad``)."""
    return str(get_name_and_doc(_code(status))[0])


def status_text(status: int | ua.StatusCode) -> str:
    """``BadNodeIdUnknown (0x80340000): The node id refers to a node that does not exist ...``."""
    code = _code(status)
    name, doc = get_name_and_doc(code)
    return f"{name} (0x{code:08X}): {doc}" if doc else f"{name} (0x{code:08X})"


def is_bad(status: int | ua.StatusCode) -> bool:
    """True for the Bad severity (bit 31)."""
    return bool(_code(status) & 0x80000000)


def is_node_error(status: int | ua.StatusCode) -> bool:
    """True when the server refuses the node itself (unknown, not readable/writable, wrong type...)."""
    return (_code(status) & 0xFFFF0000) in _NODE_ERRORS


def error_kind(status: int | ua.StatusCode) -> ErrorKind:
    """The EdgeX error kind of a Bad status: 404 unknown node, 405 not readable/writable, 403 access denied,
    400 type or range, 503 server unavailable, else 502 (the device answered with an error)."""
    return _KINDS.get(_code(status) & 0xFFFF0000, ErrorKind.COMMUNICATION)


@lru_cache(maxsize=512)
def status_tags(status: int) -> MappingProxyType[str, str]:
    """The reading tags of a StatusCode (shared and read-only: copy before changing)."""
    return MappingProxyType({STATUS_TAG: status_name(status), STATUS_CODE_TAG: f"0x{status:08X}"})
