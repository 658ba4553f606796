"""What a device's subscription asks the server for: its publishing interval, and per item the sampling interval,
queue size, discard policy and deadband filter of the resource's attributes."""

from __future__ import annotations

from asyncua import ua

from edgewatch.common.contracts.valuetype import ValueType
from edgewatch.ingest.drivers.opcua.monitor import DeviceMonitor, MonitoredResource
from edgewatch.protocols.opcua.attributes import parse_attributes


class _Sink:
    async def data_changed(self, changes: object) -> None:
        return None

    async def availability_changed(self, up: bool, reason: str) -> None:
        return None


def test_items_carry_each_resources_monitoring_parameters() -> None:
    attrs = {
        "nodeId": "ns=2;s=Flow",
        "samplingInterval": "250ms",
        "queueSize": 8,
        "discardOldest": False,
        "deadbandType": "Absolute",
        "deadbandValue": 0.5,
    }
    spec = parse_attributes(attrs, "Float64").monitor
    assert spec is not None
    resource = MonitoredResource("Flow", ua.NodeId("Flow", 2), spec, ValueType.FLOAT64)
    monitor = DeviceMonitor("skid-1", [resource], _Sink(), publishing_interval=0.5, origin="source")
    item = monitor._item(1, resource)
    p = item.RequestedParameters
    assert (p.ClientHandle, p.SamplingInterval, p.QueueSize, p.DiscardOldest) == (1, 250.0, 8, False)
    assert (p.Filter.DeadbandType, p.Filter.DeadbandValue, int(p.Filter.Trigger)) == (1, 0.5, 1)
    assert item.ItemToMonitor.NodeId == ua.NodeId("Flow", 2) and item.ItemToMonitor.AttributeId == ua.AttributeIds.Value
    params = monitor._parameters()
    assert params.RequestedPublishingInterval == 500.0
    assert params.RequestedMaxKeepAliveCount == 10  # a keep-alive every 5 s
    assert params.RequestedLifetimeCount == 120  # the server drops a vanished client's subscription after 60 s
