"""Service settings: defaults -> YAML file -> EdgeX-style environment overrides; a hot-reloadable Writable.

Keys use EdgeX's PascalCase in YAML (``Service: {Port: 59880}``). An environment variable named after the
upper-cased key path joined by ``_`` overrides a value: ``SERVICE_PORT``, ``MESSAGEBUS_HOST``,
``WRITABLE_LOGLEVEL`` (EdgeX's pattern). Values from the environment are parsed as YAML scalars.
The ``MessageBus`` section is the bus's own (``bus.settings.MessageBusSection``); the service settings compose it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_pascal

from edgewatch.common.bus.settings import MessageBusSection

__all__ = [
    "DEFAULT_DATA_DIR",
    "Section",
    "ServiceSection",
    "ServiceSettings",
    "WritableSection",
    "env_overrides",
    "load_settings",
]

DEFAULT_DATA_DIR = "~/.local/share/edgewatch"

S = TypeVar("S", bound="ServiceSettings")


class Section(BaseModel):
    """Base of every settings section: PascalCase keys in YAML, snake_case in code."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")


class ServiceSection(Section):
    """Where the service listens and how it treats requests."""

    host: str = Field("127.0.0.1", description="REST bind address")
    port: int = Field(0, ge=0, le=65535, description="REST port (0 = service default)")
    request_timeout: float = Field(5.0, gt=0, description="Bus request/reply timeout in seconds")
    auth_token: str = Field("", description="Bearer token required on REST routes other than ping (empty = off)")
    auth_token_file: str = Field("", description="File holding the bearer token (preferred over AuthToken)")
    tls_cert_file: str = Field("", description="PEM certificate (chain) for HTTPS; set with TlsKeyFile = HTTPS on")
    tls_key_file: str = Field("", description="PEM private key of TlsCertFile")
    max_result_count: int = Field(1024, ge=1, description="EdgeX MaxResultCount for paged queries")
    max_request_size: int = Field(
        1024, ge=0, description="EdgeX MaxRequestSize: largest request body in KB (0 = no limit); 413 above"
    )
    max_document_depth: int = Field(
        32, ge=1, le=128, description="Deepest nesting of a JSON, YAML or CBOR document accepted; 400 deeper"
    )
    max_yaml_alias_nodes: int = Field(
        10000, ge=0, description="Nodes a YAML document may add by expanding aliases and merge keys; 400 beyond"
    )
    parse_timeout: float = Field(
        10.0, gt=0, description="Seconds a parse worker may spend on one input; 413 beyond (the worker is replaced)"
    )
    parse_workers: int = Field(1, ge=1, le=16, description="Worker processes for CPU-heavy parsing and checks")
    parse_memory_limit: int = Field(
        512,
        ge=0,
        description="MB a parse worker may allocate beyond its code (0 = no cap); 413 for an input needing more",
    )

    def bearer_token(self) -> str:
        """The REST bearer token in force: the content of AuthTokenFile if set, else AuthToken ("" = off).

        Raises:
            OSError: AuthTokenFile is set but cannot be read (callers must fail closed).
        """
        if self.auth_token_file:
            with open(self.auth_token_file, encoding="utf-8") as f:
                return f.read().strip()
        return self.auth_token


class WritableSection(Section):
    """Settings that may change at runtime (hot-reloaded from the config file)."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="allow")

    log_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR"] = "INFO"


class ServiceSettings(Section):
    """Settings common to every service; services subclass and add their own sections."""

    service: ServiceSection = Field(default_factory=ServiceSection)
    message_bus: MessageBusSection = Field(default_factory=MessageBusSection)
    writable: WritableSection = Field(default_factory=WritableSection)
    data_dir: str = Field(DEFAULT_DATA_DIR, description="Root for all local state (EDGEWATCH_DATA_DIR)")
    config_file: str = Field("", description="Path the settings were loaded from (for hot reload)")

    default_port: ClassVar[int] = 0
    """The service's documented port (a constant of ``edgewatch.common.contracts.ports``): fills ``Service.Port``
    when neither the file nor the environment sets it."""

    @model_validator(mode="after")
    def _fill_default_port(self) -> Self:
        if self.service.port == 0:
            self.service.port = self.default_port
        return self

    def data_path(self, *parts: str) -> Path:
        """A path under the data directory, created on demand."""
        p = Path(os.path.expanduser(self.data_dir)).joinpath(*parts)
        p.mkdir(parents=True, exist_ok=True)
        return p


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _model_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf key path (by alias) of a settings model."""
    paths: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            paths.extend(_model_paths(ann, (*prefix, alias)))
        else:
            paths.append((*prefix, alias))
    return paths


def env_overrides(model: type[BaseModel], env: Mapping[str, str]) -> dict[str, Any]:
    """Nested overrides from EdgeX-style environment variables (``SECTION_KEY``)."""
    out: dict[str, Any] = {}
    for path in _model_paths(model):
        name = "_".join(p.upper() for p in path)
        if name in env:
            raw = env[name]
            try:
                value: Any = yaml.safe_load(raw) if raw != "" else ""
            except yaml.YAMLError:
                value = raw
            if isinstance(value, (dict, list)) and not raw.strip().startswith(("{", "[")):
                value = raw
            cur = out
            for p in path[:-1]:
                cur = cur.setdefault(p, {})
            cur[path[-1]] = value
    if "EDGEWATCH_DATA_DIR" in env:
        out["DataDir"] = env["EDGEWATCH_DATA_DIR"]
    return out


def load_settings(
    cls: type[S],
    config_file: str | Path | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> S:
    """Load settings: model defaults, then ``defaults``, then the YAML file, then environment overrides.

    Raises:
        pydantic.ValidationError: a value is invalid; the message names the key path.
        FileNotFoundError: ``config_file`` is given and does not exist.
    """
    data: dict[str, Any] = dict(defaults or {})
    if config_file:
        text = Path(config_file).read_text(encoding="utf-8")
        loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{config_file}: top level must be a mapping")
        data = _deep_merge(data, loaded)
        data["ConfigFile"] = str(config_file)
    data = _deep_merge(data, env_overrides(cls, os.environ if env is None else env))
    return cls.model_validate(data)
