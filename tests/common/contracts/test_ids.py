"""Ids made without the UUID object are the UUIDs Python's uuid module makes (parsed back, same version and
variant), and random ones do not repeat."""

from __future__ import annotations

import uuid

from edgewatch.common.contracts.ids import EDGEWATCH_NAMESPACE, name_uuid, random_uuid


def test_random_uuid_is_a_version_4_uuid_and_does_not_repeat() -> None:
    made = [random_uuid() for _ in range(5000)]
    assert len(set(made)) == len(made)
    for text in made:
        u = uuid.UUID(text)
        assert (u.version, u.variant) == (4, uuid.RFC_4122)
        assert str(u) == text  # canonical lower-case form with dashes


def test_name_uuid_is_uuid5_of_the_namespace() -> None:
    for name in ["", "pump-1/all/1700000000000000000", "ü/ß/0", "x" * 500]:
        assert name_uuid(name) == str(uuid.uuid5(EDGEWATCH_NAMESPACE, name))
