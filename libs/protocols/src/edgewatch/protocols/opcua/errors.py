"""Errors of the OPC UA protocol code, each naming the device / resource / endpoint it concerns.

Hierarchy (ProtocolError and ProfileConfigError live in :mod:`edgewatch.protocols.errors`)::

    ProtocolError
      ProfileConfigError                400  a nodeId or another attribute of a profile is invalid (at load)
      OpcUaTypeError                    400  a value does not fit the node's DataType / ValueRank (or the valueType)
      OpcUaStatusError                  4xx/5xx  the server refused one node (its StatusCode decides the kind)
      OpcUaConnectError                 503  the endpoint cannot be reached or refused the session
        UntrustedCertificateError       503  the server's certificate is not in the trust list
"""

from __future__ import annotations

from edgewatch.common.contracts.errors import ErrorKind
from edgewatch.protocols.errors import ProtocolError

__all__ = ["OpcUaConnectError", "OpcUaStatusError", "OpcUaTypeError", "UntrustedCertificateError"]


class OpcUaTypeError(ProtocolError):
    """A value does not fit a node's DataType / ValueRank, or a node's value does not fit the resource's valueType."""

    kind = ErrorKind.CONTRACT_INVALID


class OpcUaStatusError(ProtocolError):
    """The server answered a node with a Bad StatusCode (unknown node, not writable, type mismatch, ...)."""

    def __init__(self, message: str, *, status: int, kind: ErrorKind, device: str = "", resource: str = "") -> None:
        super().__init__(message, device=device, resource=resource, kind=kind)
        self.status_code = status


class OpcUaConnectError(ProtocolError):
    """The endpoint cannot be reached, or it refused the secure channel or the session."""

    kind = ErrorKind.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, endpoint: str = "", device: str = "") -> None:
        super().__init__(f"{message} ({endpoint})" if endpoint else message, device=device)
        self.endpoint = endpoint


class UntrustedCertificateError(OpcUaConnectError):
    """The server presented a certificate that is not in the client's trust list."""

    def __init__(self, message: str, *, endpoint: str = "", thumbprint: str = "", rejected_path: str = "") -> None:
        super().__init__(message, endpoint=endpoint)
        self.thumbprint = thumbprint
        self.rejected_path = rejected_path
