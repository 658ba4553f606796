"""RulesSettings: the rules service's settings (common sections + its own)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings

__all__ = ["ActuationSection", "DryRunSection", "RulesSection", "RulesSettings"]


class RulesSection(Section):
    """Where rules come from and how often the fail-safe looks (YAML section ``Rules``)."""

    files: list[str] = Field(
        default_factory=list,
        description="Rule files (YAML/JSON; one rule or a list) seeded at startup; relative to the config file",
    )
    stale_check_interval: float = Field(1.0, gt=0, description="Seconds between staleness checks")
    alert_history: int = Field(256, ge=0, description="Recent alerts kept for GET /api/v3/alert")


class ActuationSection(Section):
    """How commands are sent: straight to the device service or through core-command (YAML section ``Actuation``)."""

    route: Literal["direct", "core-command"] = Field(
        "direct",
        description="direct: a SET goes straight to the owning device service, checked as core-command checks it "
        "against a read-only replica of core-metadata's KV buckets (through core-command while the replica is not "
        "loaded); core-command: every SET goes through core-command. Read-backs always go through core-command",
    )
    bucket_prefix: str = Field(
        "edgewatch-core", description="core's Core.BucketPrefix: the metadata KV buckets the direct route reads"
    )
    responder: str = Field("core-command", description="Service that answers command requests")
    command_timeout: float = Field(5.0, gt=0, description="Seconds to wait for one command answer")
    attempts: int = Field(4, ge=1, le=100, description="Requests per command before it is reported failed")
    backoff_initial: float = Field(0.5, ge=0, description="Seconds before the first retry (doubles each retry)")
    backoff_max: float = Field(5.0, ge=0, description="Longest wait between retries")


class DryRunSection(Section):
    """Where ``POST /api/v3/rule/dryrun`` reads recorded samples for a time range (YAML section ``DryRun``)."""

    core_data_url: str = Field(f"http://127.0.0.1:{ports.CORE_DATA}", description="core-data base URL (EdgeX events)")
    core_data_token_file: str = Field("", description="Bearer token file for core-data (empty = none)")
    receiver_url: str = Field(
        f"http://127.0.0.1:{ports.RECEIVER}", description="Receiver base URL (events, scores, features)"
    )
    receiver_token_file: str = Field("", description="Bearer token file for the receiver (empty = none)")
    page_size: int = Field(1000, ge=1, le=100_000, description="Records per query (<= the source's MaxResultCount)")
    max_samples: int = Field(200_000, ge=1, description="A range holding more records than this is refused")
    timeout: float = Field(10.0, gt=0, description="Seconds per query")


class RulesSettings(ServiceSettings):
    """Settings of edgewatch-rules."""

    default_port: ClassVar[int] = ports.RULES
    rules: RulesSection = Field(default_factory=RulesSection)
    actuation: ActuationSection = Field(default_factory=ActuationSection)
    dry_run: DryRunSection = Field(default_factory=DryRunSection)

    def rule_files(self) -> list[Path]:
        """``Rules.Files`` resolved against the config file's directory."""
        base = Path(self.config_file).parent if self.config_file else Path.cwd()
        return [p if p.is_absolute() else base / p for p in (Path(f).expanduser() for f in self.rules.files)]
