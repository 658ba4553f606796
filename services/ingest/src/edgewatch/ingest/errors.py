"""Errors of edgewatch-ingest, each carrying the device / resource / address it concerns.

Hierarchy (ProtocolError and the three errors above IngestError live in edgewatch.protocols.errors: the protocol
code shared with the simulator raises them)::

    EdgeXError (edgewatch.common.contracts.errors)
      ProtocolError                     device/resource prefix; kind decides the HTTP status
        ProfileConfigError    400       a profile/device attribute is invalid (found at load time)
        ValueRangeError       400       a SET value is outside minimum/maximum or the raw type's range
        TransformOverflowError 500      a read transform overflowed the value type (EdgeX Overflow)
        IngestError           500       base of the service's own errors
          DeviceIOError       503       talking to the device failed
            DeviceTimeoutError  503     no answer within Timeout
            DeviceConnectError  503     the endpoint cannot be reached
            ModbusExceptionError 502    the device answered with a Modbus exception code

``except ProtocolError`` catches every error of this service.
"""

from __future__ import annotations

from edgewatch.common.contracts.errors import ErrorKind
from edgewatch.protocols.errors import ProtocolError

__all__ = [
    "DeviceConnectError",
    "DeviceIOError",
    "DeviceTimeoutError",
    "IngestError",
    "ModbusExceptionError",
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


class IngestError(ProtocolError):
    """Base error of the ingest service's own errors (protocol code raises its siblings)."""

    kind = ErrorKind.SERVER


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
