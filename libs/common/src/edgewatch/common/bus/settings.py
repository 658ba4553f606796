"""The bus's settings section (EdgeX ``MessageBus``) and the nats-py connect options every suite connection uses.

The bus owns this section; ``service.settings.ServiceSettings`` composes it as ``MessageBus``. Keys follow the
convention of every settings section: PascalCase in YAML (``MessageBus: {Host: ...}``), snake_case in code,
unknown keys rejected; ``MESSAGEBUS_HOST``-style environment overrides are applied by the service settings loader.
"""

from __future__ import annotations

import ssl
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from edgewatch.common.contracts import ports

__all__ = ["MessageBusSection"]


class MessageBusSection(BaseModel):
    """NATS connection (EdgeX MessageBus section)."""

    # the key style of service.settings.Section, which the bus cannot import (service sits above the bus)
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")

    protocol: Literal["nats"] = "nats"
    host: str = Field("127.0.0.1", description="nats-server host")
    port: int = Field(ports.NATS, ge=1, le=65535, description="nats-server client port")
    servers: list[str] = Field(default_factory=list, description="Full server URLs; overrides Host/Port")
    user: str = ""
    password: str = ""
    password_file: str = Field("", description="File holding the password of User (preferred over Password)")
    token: str = ""
    credentials_file: str = Field("", description="NATS .creds file (JWT + nkey)")
    tls_ca_file: str = Field("", description="CA bundle that verifies nats-server's certificate; set = TLS on")
    format: Literal["nats", "json"] = Field("nats", description="EdgeX NATS message format for EdgeX topics")
    connect_timeout: float = Field(2.0, gt=0)
    reconnect_wait: float = Field(0.5, gt=0, description="Seconds between reconnect attempts (unbounded)")
    drain_timeout: float = Field(5.0, gt=0)

    def urls(self) -> list[str]:
        """Server URLs to connect to."""
        return self.servers or [f"nats://{self.host}:{self.port}"]

    def read_password(self) -> str:
        """The password in force: the content of PasswordFile if set, else Password.

        Raises:
            OSError: PasswordFile is set but cannot be read (fail closed).
        """
        if self.password_file:
            with open(self.password_file, encoding="utf-8") as f:
                return f.read().strip()
        return self.password

    def connect_options(self, name: str) -> dict[str, object]:
        """nats-py ``connect`` keywords every suite connection uses: unbounded reconnect, 64 MB pending buffer
        while disconnected, fast dead-peer detection, and the configured credentials."""
        opts: dict[str, object] = {
            "servers": self.urls(),
            "name": name,
            "connect_timeout": self.connect_timeout,
            "reconnect_time_wait": self.reconnect_wait,
            "max_reconnect_attempts": -1,
            "allow_reconnect": True,
            "drain_timeout": self.drain_timeout,
            "pending_size": 64 * 1024 * 1024,
            "ping_interval": 5,
            "max_outstanding_pings": 2,
        }
        if self.user:
            opts["user"], opts["password"] = self.user, self.read_password()
        if self.tls_ca_file:
            opts["tls"] = ssl.create_default_context(cafile=self.tls_ca_file)
        if self.token:
            opts["token"] = self.token
        if self.credentials_file:
            opts["user_credentials"] = self.credentials_file
        return opts
