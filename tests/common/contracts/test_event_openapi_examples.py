"""Every event/reading example in EdgeX's core-data openapi parses into our DTOs and re-emits its data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from edgewatch.common.contracts.base import EdgeXModel
from edgewatch.common.contracts.event import (
    AddEventRequest,
    Event,
    EventResponse,
    MultiEventsResponse,
    MultiReadingsResponse,
    Reading,
    ReadingResponse,
)
from tests.support.shared import shared_mark, shared_path

MODELS: dict[str, type[EdgeXModel]] = {
    "AddEventRequest": AddEventRequest,
    "Event": Event,
    "EventResponse": EventResponse,
    "MultiEventsResponse": MultiEventsResponse,
    "MultiReadingsResponse": MultiReadingsResponse,
    "ReadingResponse": ReadingResponse,
}


SPEC_PARTS = ("edgex", "openapi", "core-data.yaml")
pytestmark = shared_mark(*SPEC_PARTS)


def core_data_spec() -> dict[str, Any] | None:
    path = shared_path(*SPEC_PARTS)
    if not path.is_file():
        return None
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    return spec


SPEC = core_data_spec()


def resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_name(spec: dict[str, Any], schema: Any) -> str | None:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return str(schema["$ref"]).rsplit("/", 1)[-1]
        for part in schema.get("allOf", []):
            if (name := schema_name(spec, part)) is not None:
                return name
    return None


def content_examples(spec: dict[str, Any], node: Any, where: str = "") -> Iterator[tuple[str, str, Any]]:
    """(location, schema name, example value) for every media-type entry with a schema and examples."""
    if isinstance(node, dict):
        if "schema" in node and ("example" in node or "examples" in node):
            name = schema_name(spec, node["schema"])
            if name in MODELS:
                if "example" in node:
                    yield where, name, node["example"]
                for key, example in (node.get("examples") or {}).items():
                    yield f"{where}/{key}", name, resolve(spec, example)["value"]
        for key, value in node.items():
            yield from content_examples(spec, value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from content_examples(spec, item, f"{where}/{i}")


def all_examples() -> list[tuple[str, str, Any]]:
    if SPEC is None:
        return []
    found = list(content_examples(SPEC, SPEC["paths"], "paths"))
    readings_example = SPEC["components"]["schemas"]["Event"]["properties"]["readings"]["example"]
    found += [(f"Event.readings.example/{i}", "Reading", item) for i, item in enumerate(readings_example)]
    return found


EXAMPLES = all_examples()


def test_the_walk_finds_the_event_and_reading_examples() -> None:
    names = {name for _, name, _ in EXAMPLES}
    assert {"AddEventRequest", "EventResponse", "MultiEventsResponse", "MultiReadingsResponse", "Reading"} <= names
    assert len(EXAMPLES) >= 10


def assert_readings_match(example: dict[str, Any], emitted: dict[str, Any]) -> None:
    for key, value in example.items():
        if key == "binaryValue" and isinstance(value, list):
            continue  # the openapi shows bytes as an int array; Go (and we) emit base64
        assert emitted[key] == value, key


@pytest.mark.parametrize(("where", "name", "example"), EXAMPLES, ids=[w for w, _, _ in EXAMPLES])
def test_openapi_example_parses_and_keeps_its_data(where: str, name: str, example: dict[str, Any]) -> None:
    model = Reading if name == "Reading" else MODELS[name]
    parsed = model.model_validate(example)
    emitted = parsed.to_dict()
    readings_pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if name == "Reading":
        readings_pairs.append((example, emitted))
    for events_key in ("event", "events"):
        events = example.get(events_key)
        if events is None:
            continue
        events_out = emitted[events_key]
        pairs = zip(events, events_out, strict=True) if isinstance(events, list) else [(events, events_out)]
        for event_in, event_out in pairs:
            for key in ("id", "deviceName", "profileName", "sourceName", "origin", "tags"):
                if key in event_in:
                    assert event_out[key] == event_in[key], key
            readings_pairs += list(zip(event_in["readings"], event_out["readings"], strict=True))
    if "readings" in example and name == "MultiReadingsResponse":
        readings_pairs += list(zip(example["readings"], emitted["readings"], strict=True))
    assert readings_pairs, where
    for reading_in, reading_out in readings_pairs:
        assert_readings_match(reading_in, reading_out)


def test_openapi_binary_example_bytes_become_base64() -> None:
    binary = [
        reading
        for _, name, example in EXAMPLES
        if name == "MultiReadingsResponse"
        for reading in example.get("readings", [])
        if reading.get("valueType") == "Binary"
    ]
    assert binary
    parsed = Reading.model_validate(binary[0])
    assert parsed.binary_value == bytes([12, 34])
    assert parsed.to_dict()["binaryValue"] == "DCI="


def test_openapi_extra_reading_keys_are_kept_as_extensions() -> None:
    example = next(ex for where, name, ex in EXAMPLES if name == "EventResponse")
    event = EventResponse.model_validate(example).event
    assert event.readings[0].model_extra == {"modified": 1594975851631}
    assert event.readings[1].model_extra == {"create": 1594876281221}
