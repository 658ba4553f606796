"""CoreSettings: ports of the three EdgeX APIs, Writable (profile-change rules, UoM, persistence), retention."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_pascal

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings, WritableSection

__all__ = [
    "ALL_APIS",
    "Api",
    "CoreSection",
    "CoreSettings",
    "CoreWritable",
    "EventRetention",
    "ProfileChange",
    "UoMSection",
]

Api = Literal["metadata", "data", "command"]
ALL_APIS: tuple[Api, ...] = ("metadata", "data", "command")


class ProfileChange(Section):
    """EdgeX Writable.ProfileChange: refuse (423) profile updates or deletes while devices use them."""

    strict_device_profile_changes: bool = Field(False, description="PUT profile / delete resource answer 423")
    strict_device_profile_deletes: bool = Field(False, description="DELETE profile answers 423")


class UoMSection(Section):
    """EdgeX Writable.UoM: check resource units against the units of measure when Validation is on."""

    validation: bool = Field(False, description="reject profiles whose units are not known units of measure")


class CoreWritable(WritableSection):
    """Writable settings of core (hot-reloaded)."""

    profile_change: ProfileChange = Field(default_factory=ProfileChange)
    uo_m: UoMSection = Field(default_factory=UoMSection, alias="UoM")
    persist_data: bool = Field(True, description="core-data keeps events it receives (EdgeX PersistData)")
    max_event_size: int = Field(25000, ge=0, description="largest POSTed event in KB (0 = no limit); 413 above")


class EventRetention(Section):
    """Bounds of the JetStream stream that keeps events (oldest dropped first)."""

    max_age: float = Field(7 * 24 * 3600.0, gt=0, description="seconds an event is kept")
    max_bytes: int = Field(256 * 1024 * 1024, gt=0, description="bytes the event stream may hold")
    max_events: int = Field(
        100_000,
        ge=0,
        description="events the stream may hold (0 = no count limit); core-data's in-memory index of the stream "
        "costs about 0.3 KB per event, so this bounds its memory (EdgeX's retention MaxCap plays the same role)",
    )
    stream: str = Field("EDGEWATCH_CORE_EVENTS", description="JetStream stream name for events")
    index_sync_interval: float = Field(
        10.0, gt=0, description="seconds between trims of the in-memory index to what the stream still holds"
    )
    batch_max_events: int = Field(
        256, ge=1, le=1000, description="bus events stored per JetStream atomic batch at most (one ack per batch)"
    )
    batch_window: float = Field(
        0.02,
        gt=0,
        le=1.0,
        description="seconds a batch stays open after its first bus event: a bus event is queryable about this "
        "long (plus one round trip) after it arrived",
    )


class CoreSection(Section):
    """core-specific settings."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")

    metadata_port: int = Field(ports.CORE_METADATA, ge=0, le=65535)
    data_port: int = Field(ports.CORE_DATA, ge=0, le=65535)
    command_port: int = Field(ports.CORE_COMMAND, ge=0, le=65535)
    profiles_dir: str = Field("", description="load every YAML/JSON profile here at start (409 = already there)")
    devices_dir: str = Field("", description="load every device definition file here at start")
    default_device_service: str = Field("edgewatch-ingest", description="serviceName for file devices without one")
    bucket_prefix: str = Field("edgewatch-core", description="prefix of the JetStream KV buckets of metadata")
    uom_file: str = Field("", description="units-of-measure YAML/JSON (empty = built-in list)")
    retention: EventRetention = Field(default_factory=EventRetention)
    command_url: str = Field("", description="core-command URL in coreCommands[].url (empty = http://host:port)")
    apis: list[Api] = Field(
        default_factory=lambda: list(ALL_APIS),
        min_length=1,
        description="EdgeX APIs this process serves (edgewatch up runs [command] in a process of its own)",
    )


class CoreSettings(ServiceSettings):
    """Settings of edgewatch-core."""

    default_port: ClassVar[int] = ports.CORE_METADATA
    writable: CoreWritable = Field(default_factory=CoreWritable)
    core: CoreSection = Field(default_factory=CoreSection)
