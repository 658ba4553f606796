"""Asks the owning device service to validate a device over the bus (EdgeX ``<service>/validate/device``)."""

from __future__ import annotations

from collections.abc import Callable

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.device import AddDeviceRequest, Device
from edgewatch.common.contracts.errors import EdgeXError, ErrorKind, ServiceUnavailableError

__all__ = ["BusDeviceValidator"]


class BusDeviceValidator:
    """No answer within Service.RequestTimeout -> 503; a rejection (errorCode 1) -> 500 with its text."""

    def __init__(self, bus: NatsBus, timeout: Callable[[], float]) -> None:
        self.bus = bus
        self.timeout = timeout

    async def __call__(self, d: Device) -> None:
        """Validate ``d`` with its device service.

        Raises:
            ServiceUnavailableError: the service did not answer.
            EdgeXError: (500) the service rejected the device.
        """
        try:
            subject = topics.device_validation(d.service_name)
        except ValueError as e:
            raise ServiceUnavailableError(f"device {d.name!r}: cannot reach device service: {e}") from e
        env = new_envelope(AddDeviceRequest(device=d).to_json())
        reply = await edgex_request(
            self.bus, subject, env, responder=d.service_name, timeout=self.timeout(), fmt=self.bus.settings.format
        )
        if reply.error_code:
            reason = reply.payload.decode("utf-8", errors="replace")
            raise EdgeXError(
                f"device {d.name!r} rejected by device service {d.service_name!r}: {reason}", kind=ErrorKind.SERVER
            )
