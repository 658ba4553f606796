"""Score: one anomaly score from edgewatch-inference (msgpack map of plain types on ``topics.score(device)``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from edgewatch.common.contracts.codec import pack, unpack_model

__all__ = ["Score", "decode_score", "encode_score", "encode_score_doc"]


class Score(BaseModel):
    """An anomaly score for one FeatureVector window of one device.

    Keys on the wire are camelCase (``modelName``, ``isAnomaly``, ``windowStart``); times are Unix nanoseconds.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    device: str = Field(min_length=1, description="Device the scored FeatureVector came from")
    profile: str = Field("", description="Device profile of that device")
    model_name: str = Field(min_length=1, description="Registry name of the model that produced the score")
    model_version: str = Field(min_length=1, description="Registry version of that model")
    model_sha256: str = Field("", description="sha256 of the ONNX file that produced the score")
    score: float = Field(description="Anomaly score (higher is more anomalous)")
    threshold: float = Field(description="Threshold in force for this device when scoring")
    is_anomaly: bool = Field(
        description="The alarm state after this score: score > threshold held by the model's persistence (raise "
        "after k consecutive scores over, clear after m under; k = m = 1 is plain score > threshold)"
    )
    window_start: int = Field(ge=0, description="Start of the feature window (ns)")
    window_end: int = Field(ge=0, description="End of the feature window (ns)")
    feature_config_version: str = Field("", description="Config version of the features that were scored")
    origin: int = Field(ge=0, description="When the score was produced (ns)")
    contributions: dict[str, float] | None = Field(None, description="Per-feature share of the score (optional)")
    sequence: int = Field(0, ge=0, description="Per-device sequence number since the producer started")
    over_threshold: bool | None = Field(None, description="score > threshold, before persistence (absent: unknown)")
    correlation_id: str = Field("", description="EdgeX correlation id of the event behind the scored vector")


def encode_score(score: Score) -> bytes:
    """Encode as a msgpack map with camelCase keys (``contributions`` left out when absent)."""
    return encode_score_doc(score.model_dump(by_alias=True, exclude_none=True))


def encode_score_doc(doc: dict[str, Any]) -> bytes:
    """Encode a Score already laid out as its wire document (camelCase keys; what ``encode_score`` emits).

    The producer's hot path builds the document directly; ``decode_score`` on the consumer validates it.
    """
    return pack(doc)


def decode_score(data: bytes) -> Score:
    """Decode a msgpack Score (pydantic validation: coerces what it may, names the offending field otherwise).

    Raises:
        MessageDecodeError: not msgpack, not a map, or a field is missing or invalid (the message names it).
    """
    return unpack_model(Score, data, "score")
