"""core-data's event index: entries of one device share their names, and reading origins are kept only when they
differ from the event's."""

from __future__ import annotations

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import decode_add_event, encode_add_event
from edgewatch.core.data.index import IndexEntry


def _decoded(device: str, origin: int, reading_origin: int | None = None) -> IndexEntry:
    readings = [
        Reading.simple(device, "p", "Current", "Float32", 1.0, origin=reading_origin or origin),
        Reading.simple(device, "p", "Stop", "Bool", False, origin=origin),
    ]
    body = encode_add_event(AddEventRequest.of(new_event(device, "p", "all", readings, origin=origin)))
    return IndexEntry.of(1, decode_add_event(body).event)  # decoded: fresh string objects, as from the bus


def test_entries_of_one_device_share_device_and_resource_names() -> None:
    a, b = _decoded("pump-7", 1_000), _decoded("pump-7", 2_000)
    assert a.device is b.device and a.resources is b.resources and a.resources == ("Current", "Stop")


def test_reading_origins_are_kept_only_when_they_differ_from_the_event() -> None:
    same, other = _decoded("pump-7", 1_000), _decoded("pump-7", 1_000, reading_origin=900)
    assert same.reading_origins == () and [same.reading_origin(i) for i in range(2)] == [1_000, 1_000]
    assert [other.reading_origin(i) for i in range(2)] == [900, 1_000]
