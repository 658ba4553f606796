"""Where upload batches go: the cloud receiver over HTTPS, a remote JetStream (NATS to NATS), or an MQTT broker."""

from __future__ import annotations

from edgewatch.common.bus.client import NatsBus
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.sinks.base import BatchTooLargeError, Sink, SinkError
from edgewatch.sync.sinks.leafnode import LeafnodeSink
from edgewatch.sync.sinks.mqtt import MqttSink
from edgewatch.sync.sinks.receiver import ReceiverSink

__all__ = ["BatchTooLargeError", "Sink", "SinkError", "make_sink"]


def make_sink(settings: SyncSettings, bus: NatsBus) -> Sink:
    """The configured sink (``Sink.Kind``)."""
    if settings.sink.kind == "nats":
        return LeafnodeSink(settings.sink, lambda: bus.nc)
    if settings.sink.kind == "mqtt":
        return MqttSink(settings.sink, settings.sync.gateway_id)
    return ReceiverSink(settings.sink)
