"""The driver's shared state: one :class:`OpcUaSession` per endpoint + security + identity, reference-counted by
the devices using it, and the service-wide options (PKI folder, secrets folder, defaults, backoff)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgewatch.ingest.drivers.opcua.properties import LinkDefaults, SessionKey
from edgewatch.ingest.drivers.opcua.session import OpcUaSession
from edgewatch.protocols.opcua.client import ClientOptions
from edgewatch.protocols.opcua.security import Pki

__all__ = ["OpcUaOptions", "SessionPool"]


class SessionPool:
    """Sessions by key; the last device to release one closes it."""

    def __init__(
        self,
        pki: Pki,
        secrets_dir: Path,
        client_options: ClientOptions | None = None,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_per_request: int = 1000,
    ) -> None:
        self.pki = pki
        self.secrets_dir = secrets_dir
        self.client_options = client_options or ClientOptions()
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_per_request = max_per_request
        self.sessions: dict[SessionKey, OpcUaSession] = {}

    def acquire(self, key: SessionKey) -> OpcUaSession:
        """The session for ``key`` (created, not yet connected, on first use)."""
        session = self.sessions.get(key)
        if session is None:
            session = OpcUaSession(
                key,
                pki=self.pki,
                secrets_dir=self.secrets_dir,
                client_options=self.client_options,
                backoff_initial=self.backoff_initial,
                backoff_max=self.backoff_max,
                max_per_request=self.max_per_request,
            )
            self.sessions[key] = session
        session.users += 1
        return session

    async def release(self, session: OpcUaSession) -> None:
        """Drop one user; the last one closes the session."""
        session.users -= 1
        if session.users <= 0 and self.sessions.get(session.key) is session:
            del self.sessions[session.key]
            await session.close()

    async def close(self) -> None:
        """Close every session."""
        for session in list(self.sessions.values()):
            await session.close()
        self.sessions.clear()


@dataclass(slots=True)
class OpcUaOptions:
    """What the OPC UA driver factory gets from the service (IngestSettings ``OPCUA``)."""

    pool: SessionPool
    defaults: LinkDefaults = field(default_factory=LinkDefaults)

    @classmethod
    def local(cls, root: Path, **defaults: object) -> OpcUaOptions:
        """Options with ``<root>/pki`` and ``<root>/secrets`` (tests, benchmarks)."""
        pool = SessionPool(Pki(root / "pki"), root / "secrets", backoff_initial=0.1, backoff_max=1.0)
        return cls(pool, LinkDefaults(**defaults))  # type: ignore[arg-type]
