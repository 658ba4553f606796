"""Errors of edgewatch-ingest, each carrying the device / resource / address it concerns.

Hierarchy::

    EdgeXError (edgewatch.common.contracts.errors)
      IngestError                       base of the service; kind decides the HTTP status
        ProfileConfigError    400       a profile/device attribute is invalid (found at load time)
        ValueRangeError       400       a SET value is outside minimum/maximum or the raw type's range
        TransformOverflowError 500      a read transform overflowed the value type (EdgeX Overflow)
        DeviceIOError         503       talking to the device failed
          DeviceTimeoutError  503       no answer within Timeout
          DeviceConnectError  503       the endpoint cannot be reached
          ModbusExceptionError 502      the device answered with a Modbus exception code
"""

from __future__ import annotations

from edgewatch.common.contracts.errors import EdgeXError, ErrorKind

__all__ = [
    "DeviceConnectError",
    "DeviceIOError",
    "DeviceTimeoutError",
    "IngestError",
    "ModbusExceptionError",
    "ProfileConfigError",
    "TransformOverflowError",
    "ValueRangeError",
]

MODBUS_EXCEPTION_NAMES = {
    1: "ILLEGAL_FUNCTION",
    2: "ILLEGAL_DATA_ADDRESS",
    3: "ILLEGAL_DATA_VALUE",
    4: "SERVER_DEVICE_FAILURE",
    5: "ACKNOWLEDGE",
    6: "SERVER_DEVICE_BUSY",
    8: "MEMORY_PARITY_ERROR",
    10: "GATEWAY_PATH_UNAVAILABLE",
    11: "GATEWAY_TARGET_NO_RESPONSE",
}


class IngestError(EdgeXError):
    """Base error of the ingest service."""

    kind = ErrorKind.SERVER

    def __init__(self, message: str, *, device: str = "", resource: str = "", kind: ErrorKind | None = None) -> None:
        prefix = "/".join(p for p in (device, resource) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message, kind=kind, field=resource or None)
        self.device = device
        self.resource = resource


class ProfileConfigError(IngestError):
    """A profile attribute or device protocol property is invalid (raised when the profile/device loads)."""

    kind = ErrorKind.CONTRACT_INVALID


class ValueRangeError(IngestError):
    """A value to write is outside minimum/maximum or cannot be represented by the raw type."""

    kind = ErrorKind.CONTRACT_INVALID


class TransformOverflowError(IngestError):
    """A read transform produced a value the value type cannot hold (EdgeX answers 500 Overflow)."""

    kind = ErrorKind.OVERFLOW


class DeviceIOError(IngestError):
    """Talking to a device failed; the device is marked DOWN when this persists."""

    kind = ErrorKind.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, device: str = "", resource: str = "", address: str = "") -> None:
        super().__init__(f"{message} ({address})" if address else message, device=device, resource=resource)
        self.address = address


class DeviceTimeoutError(DeviceIOError):
    """The device did not answer within its Timeout."""


class DeviceConnectError(DeviceIOError):
    """The endpoint refused or dropped the connection."""


class ModbusExceptionError(DeviceIOError):
    """The device answered with a Modbus exception response (e.g. 2 = ILLEGAL_DATA_ADDRESS)."""

    kind = ErrorKind.COMMUNICATION

    def __init__(self, code: int, *, device: str = "", resource: str = "", address: str = "") -> None:
        name = MODBUS_EXCEPTION_NAMES.get(code, "UNKNOWN")
        super().__init__(f"Modbus exception {code} ({name})", device=device, resource=resource, address=address)
        self.code = code
