"""The only module that builds bus subjects: EdgeX topics and edgewatch suite subjects.

EdgeX topics use ``/`` separators and MQTT wildcards (``+``, ``#``); on NATS they map to ``.``, ``*`` and ``>``
(COMPAT.md section 5.4). Every subject in the suite is built here; services never format subjects themselves.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BASE_TOPIC_PREFIX",
    "SUITE_PREFIX",
    "alert",
    "alert_all",
    "command_request",
    "command_request_all",
    "core_event",
    "dead_letter",
    "device_command_request",
    "device_command_request_all",
    "device_event",
    "device_events_all",
    "device_validation",
    "events_all",
    "feature_vector",
    "feature_vector_all",
    "response",
    "score",
    "score_all",
    "shadow_score",
    "shadow_score_all",
    "subject_to_edgex",
    "suite",
    "system_event",
    "system_events_all",
    "system_events_for_service",
    "system_events_for_type",
    "telemetry",
]

BASE_TOPIC_PREFIX: Final = "edgex"
SUITE_PREFIX: Final = "edgewatch"

_FORBIDDEN = frozenset(" .*>\t\r\n")


def _seg(name: str, field: str) -> str:
    """Validate one subject segment: NATS subjects cannot carry '.', '*', '>' or whitespace in a token."""
    if not name:
        raise ValueError(f"{field}: subject segment must not be empty")
    bad = _FORBIDDEN.intersection(name)
    if bad:
        raise ValueError(f"{field}: {name!r} contains characters not allowed in a bus subject: {sorted(bad)}")
    return name


# --- EdgeX <-> NATS mapping -------------------------------------------------------------------------------


def subject_to_edgex(subject: str) -> str:
    """Map a NATS subject back to the EdgeX topic form (fills the envelope's ``receivedTopic``)."""
    parts = []
    for p in subject.split("."):
        parts.append("+" if p == "*" else "#" if p == ">" else p)
    return "/".join(parts)


def _edgex(*segs: str) -> str:
    return ".".join((BASE_TOPIC_PREFIX, *segs))


# --- EdgeX topics (COMPAT.md section 5.1) --------------------------------------------------------------------


def device_event(service: str, profile: str, device: str, source: str) -> str:
    """``edgex.events.device.<service>.<profile>.<device>.<source>``: events published by a device service."""
    return _edgex(
        "events",
        "device",
        _seg(service, "service"),
        _seg(profile, "profile"),
        _seg(device, "device"),
        _seg(source, "source"),
    )


def device_events_all() -> str:
    """Wildcard for every device-service event."""
    return _edgex("events", "device", ">")


def core_event(service: str, profile: str, device: str, source: str) -> str:
    """``edgex.events.core.<service>.<profile>.<device>.<source>``: events POSTed to core-data, re-published."""
    return _edgex(
        "events",
        "core",
        _seg(service, "service"),
        _seg(profile, "profile"),
        _seg(device, "device"),
        _seg(source, "source"),
    )


def events_all() -> str:
    """Wildcard for every event (device and core)."""
    return _edgex("events", ">")


def command_request(device: str, command: str, method: str) -> str:
    """Client -> core-command: ``edgex.core.command.request.<device>.<command>.<get|set>``."""
    return _edgex("core", "command", "request", _seg(device, "device"), _seg(command, "command"), _method(method))


def command_request_all() -> str:
    """Wildcard core-command subscribes to."""
    return _edgex("core", "command", "request", ">")


def device_command_request(service: str, device: str, command: str, method: str) -> str:
    """core-command -> device service: ``edgex.device.command.request.<service>.<device>.<command>.<method>``."""
    return _edgex(
        "device",
        "command",
        "request",
        _seg(service, "service"),
        _seg(device, "device"),
        _seg(command, "command"),
        _method(method),
    )


def device_command_request_all(service: str) -> str:
    """Wildcard a device service subscribes to for its commands."""
    return _edgex("device", "command", "request", _seg(service, "service"), ">")


def response(service: str, request_id: str) -> str:
    """``edgex.response.<service>.<requestId>``: where responders answer requests."""
    return _edgex("response", _seg(service, "service"), _seg(request_id, "requestId"))


def response_all(service: str) -> str:
    """``edgex.response.<service>.*``: every answer of one responder (a requester's one persistent subscription)."""
    return _edgex("response", _seg(service, "service"), "*")


def device_validation(service: str) -> str:
    """``edgex.<service>.validate.device``: core-metadata asks a device service to validate a device."""
    return _edgex(_seg(service, "service"), "validate", "device")


def system_event(type_: str, action: str, owner: str, profile: str) -> str:
    """``edgex.system-events.core-metadata.<type>.<action>.<owner>.<profile>``."""
    return _edgex(
        "system-events",
        "core-metadata",
        _seg(type_, "type"),
        _seg(action, "action"),
        _seg(owner, "owner"),
        _seg(profile, "profile"),
    )


def system_events_for_service(service: str) -> str:
    """Wildcard a device service subscribes to: ``edgex.system-events.core-metadata.*.*.<service>.>``."""
    return _edgex("system-events", "core-metadata", "*", "*", _seg(service, "service"), ">")


def system_events_for_type(type_: str) -> str:
    """Wildcard for one entity type's system events: ``edgex.system-events.core-metadata.<type>.>``."""
    return _edgex("system-events", "core-metadata", _seg(type_, "type"), ">")


def system_events_all() -> str:
    """Wildcard for every metadata system event."""
    return _edgex("system-events", ">")


def telemetry(service: str, metric: str) -> str:
    """``edgex.telemetry.<service>.<metric>``."""
    return _edgex("telemetry", _seg(service, "service"), _seg(metric, "metric"))


def _method(method: str) -> str:
    m = method.lower()
    if m not in ("get", "set"):
        raise ValueError(f"method: {method!r} must be 'get' or 'set'")
    return m


# --- edgewatch suite subjects: edgewatch.<producer>.<noun>[.<key>] ----------------------------------------------


def suite(producer: str, noun: str, *keys: str) -> str:
    """Build a suite subject ``edgewatch.<producer>.<noun>[.<key>...]``."""
    return ".".join((SUITE_PREFIX, _seg(producer, "producer"), _seg(noun, "noun"), *(_seg(k, "key") for k in keys)))


def feature_vector(device: str) -> str:
    """FeatureVector messages (msgpack) from the features service."""
    return suite("features", "vector", device)


def feature_vector_all() -> str:
    """Wildcard for every FeatureVector."""
    return f"{SUITE_PREFIX}.features.vector.>"


def score(device: str) -> str:
    """Anomaly scores from the inference service."""
    return suite("inference", "score", device)


def score_all() -> str:
    """Wildcard for every score."""
    return f"{SUITE_PREFIX}.inference.score.>"


def shadow_score(device: str) -> str:
    """Scores of a shadow model (a candidate scoring beside the serving one): for comparison only, never acted on.

    Deliberately outside ``score_all()``, so rules and sync, which subscribe to that, never see them.
    """
    return suite("inference", "shadow", device)


def shadow_score_all() -> str:
    """Wildcard for every shadow score."""
    return f"{SUITE_PREFIX}.inference.shadow.>"


def alert(rule: str) -> str:
    """Alerts raised by the rules service."""
    return suite("rules", "alert", rule)


def alert_all() -> str:
    """Wildcard for every alert."""
    return f"{SUITE_PREFIX}.rules.alert.>"


def dead_letter(service: str) -> str:
    """Malformed or unprocessable bus messages, republished with the reason (counted and logged)."""
    return suite(service, "deadletter")
