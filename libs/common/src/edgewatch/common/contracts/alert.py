"""Alert: a rule raising or clearing, with the actions it took (msgpack map on ``topics.alert(rule)``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from edgewatch.common.contracts.codec import pack, unpack_model

__all__ = ["ActionResult", "Alert", "AlertAction", "decode_alert", "encode_alert"]

ActionResult = Literal["ok", "failed", "pending"]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class AlertAction(_Wire):
    """One command a rule sent when it raised (an EdgeX core-command SET)."""

    command: str = Field(min_length=1, description="EdgeX command name (e.g. PumpStop)")
    device: str = Field(min_length=1, description="Target device")
    settings: dict[str, str] = Field(default_factory=dict, description="The flat SET settings map")
    result: ActionResult = Field(description="ok: core-command answered errorCode 0; failed: retries exhausted")
    error: str = Field("", description="Last error when the result is failed")
    read_back: str = Field("", description="Value read back by the action's confirmation (empty when none)")
    attempts: int = Field(0, ge=0, description="Requests sent (retries included)")
    idempotency_key: str = Field(
        min_length=1,
        description="Same on every attempt; sent as the envelope correlationID when the alert has no correlationId",
    )


class Alert(_Wire):
    """A rule's alert for one device.

    ``id`` is unique per message; ``incident`` is the id of the raise that a clear ends (equal to ``id`` on a
    raise), so a consumer can pair them. ``kind`` is ``threshold`` for a rule condition and ``stale`` when the
    rule's source stopped arriving (the fail-safe).
    """

    id: str = Field(min_length=1, description="UUID of this alert message")
    incident: str = Field(min_length=1, description="UUID of the raise this message belongs to")
    rule: str = Field(min_length=1)
    device: str = Field(min_length=1)
    kind: Literal["threshold", "stale"] = "threshold"
    severity: str = Field(min_length=1)
    state: Literal["raised", "cleared"]
    value: float = Field(description="Aggregated value that crossed (or re-crossed) the threshold")
    threshold: float = Field(description="Raise threshold (or clear threshold on a clear)")
    message: str = ""
    origin: int = Field(ge=0, description="When the rule decided (ns)")
    actions: list[AlertAction] = Field(default_factory=list)
    correlation_id: str = Field(
        "", description="EdgeX correlation id of the event behind the deciding sample (empty when unknown: stale)"
    )


def encode_alert(alert: Alert) -> bytes:
    """Encode as a msgpack map with camelCase keys."""
    doc: dict[str, Any] = alert.model_dump(by_alias=True)
    return pack(doc)


def decode_alert(data: bytes) -> Alert:
    """Decode a msgpack Alert.

    Raises:
        MessageDecodeError: not msgpack, not a map, or a field is missing or invalid (the message names it).
    """
    return unpack_model(Alert, data, "alert")
