"""Publishes EdgeX SystemEvents (in a MessageEnvelope) for every metadata add, update and delete."""

from __future__ import annotations

import logging
from typing import Any

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.systemevent import SystemEventAction, SystemEventType, new_system_event
from edgewatch.common.service.metrics import ServiceMetrics

__all__ = ["METADATA_OWNER", "NO_PROFILE", "SystemEventPublisher"]

log = logging.getLogger(__name__)

METADATA_OWNER = "core-metadata"
NO_PROFILE = "_"  # topic segment for entities without a profile (an empty NATS token is not allowed)


class SystemEventPublisher:
    """``edgex.system-events.core-metadata.<type>.<action>.<owner>.<profile>``."""

    def __init__(self, bus: NatsBus, metrics: ServiceMetrics) -> None:
        self.bus = bus
        self.published = metrics.counter("core_system_events_total", "system events published", ("type",))

    async def publish(
        self, type_: SystemEventType, action: SystemEventAction, owner: str, profile: str, details: dict[str, Any]
    ) -> None:
        """Publish one system event; a name that cannot be a subject token is logged, not raised."""
        try:
            subject = topics.system_event(type_, action, owner or METADATA_OWNER, profile or NO_PROFILE)
        except ValueError as e:
            log.warning("system event not published: %s", e)
            return
        event = new_system_event(type_, action, owner or METADATA_OWNER, details)
        body, headers = encode_envelope(new_envelope(event.to_json()), self.bus.settings.format)
        await self.bus.publish(subject, body, headers, kind="system-event")
        self.published.labels(type_).inc()
