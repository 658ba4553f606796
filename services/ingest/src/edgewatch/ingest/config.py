"""IngestSettings: the ingest service's settings (common sections + its own)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from edgewatch.common.contracts import ports
from edgewatch.common.service.settings import Section, ServiceSettings

__all__ = [
    "DEFAULT_RES",
    "ClientSection",
    "ClientsSection",
    "DeviceSection",
    "EtherCatSection",
    "IngestSettings",
    "ModbusSection",
    "OpcUaSection",
]

DEFAULT_RES = Path(__file__).resolve().parents[3] / "res"


class DeviceSection(Section):
    """EdgeX ``Device`` section: where device definitions come from and how failures are handled."""

    profiles_dir: str = Field(str(DEFAULT_RES / "profiles"), description="Device profiles (YAML/JSON), one per file")
    devices_dir: str = Field(str(DEFAULT_RES / "devices"), description="Device definition files (deviceList:)")
    allowed_fails: int = Field(0, ge=0, description="Failed poll cycles tolerated before the device goes DOWN")
    backoff_max: float = Field(5.0, gt=0, description="Longest wait between probes of a DOWN device, seconds")
    reconnect_initial: float = Field(0.1, gt=0, description="First reconnect backoff of a connection, seconds")
    reconnect_max: float = Field(5.0, gt=0, description="Longest reconnect backoff of a connection, seconds")


class ModbusSection(Section):
    """Modbus driver tunables."""

    max_gap_registers: int = Field(16, ge=0, description="Unused registers a block read may bridge")
    max_gap_bits: int = Field(128, ge=0, description="Unused coils/inputs a block read may bridge")
    default_timeout: float = Field(1.0, gt=0, description="Request timeout when a device sets no Timeout, seconds")


class OpcUaSection(Section):
    """OPC UA driver settings (YAML key ``OPCUA``; EdgeX device-opc-ua's ``OPCUAServer.Policy/Mode/CertFile/KeyFile``
    become the ``Policy`` / ``Mode`` / ``CertFile`` / ``KeyFile`` defaults here, and each device may set its own)."""

    policy: str = Field("None", description="Default SecurityPolicy: None, Basic256Sha256, Aes128Sha256RsaOaep, ...")
    mode: str = Field("", description="Default SecurityMode: Sign, SignAndEncrypt (empty: SignAndEncrypt if secure)")
    cert_file: str = Field("", description="Client certificate for every device instead of the generated one")
    key_file: str = Field("", description="Private key of CertFile")
    pki_dir: str = Field("", description="Client PKI folder (own/, trusted/, rejected/); empty = <DataDir>/opcua/pki")
    secrets_dir: str = Field("", description="Folder of PasswordSecret files; empty = <DataDir>/secrets")
    application_uri: str = Field("urn:edgewatch:ingest", description="ApplicationUri of the client certificate")
    request_timeout: float = Field(5.0, gt=0, description="Answer timeout of one OPC UA request, seconds")
    session_timeout: float = Field(120.0, gt=0, description="Session timeout requested from servers, seconds")
    watchdog_interval: float = Field(
        5.0, gt=0, description="Seconds between liveness probes of a connected server (a closed socket is seen at once)"
    )
    publishing_interval: float = Field(1.0, gt=0, description="Default publishing interval of a device, seconds")
    timestamp_origin: Literal["source", "server", "gateway"] = Field(
        "source", description="Reading origin: source timestamp (server as fallback), server timestamp, or gateway"
    )
    max_nodes_per_request: int = Field(1000, ge=1, description="Nodes per Read/Write/CreateMonitoredItems request")


class EtherCatSection(Section):
    """EtherCAT master tunables (YAML key ``EtherCAT``); the interface, cycle time and slave are per device."""

    receive_timeout_us: int = Field(0, ge=0, description="Process data receive timeout, us (0 = the cycle time)")
    stale_cycles: int = Field(3, ge=1, description="Cycles without a good frame before a slave's data count as stale")
    supervise_interval: float = Field(
        0.5,
        gt=0,
        description="Seconds between AL state checks of a healthy line (a working-counter error checks at once)",
    )
    retry_interval: float = Field(1.0, gt=0, description="Seconds between attempts to open / configure a line")
    state_timeout_us: int = Field(5000, gt=0, description="Timeout of one recover / reconfigure step, us")
    worker_process: bool = Field(
        True, description="Run each line's master in a worker process (false: threads of the service process)"
    )
    cycle_priority: int = Field(
        0, ge=0, le=99, description="SCHED_FIFO priority of the cyclic thread (needs CAP_SYS_NICE); 0 = normal"
    )


class ClientSection(Section):
    """One EdgeX client endpoint (``Clients.CoreMetadata``)."""

    protocol: str = "http"
    host: str = Field("", description="Empty = not configured (run from local files only)")
    port: int = Field(0, ge=0, le=65535)
    auth_token: str = Field("", description="Bearer token for the client's REST calls (empty = none)")
    auth_token_file: str = Field("", description="File holding the bearer token (preferred over AuthToken)")

    def token(self) -> str:
        """The bearer token (file first).

        Raises:
            OSError: AuthTokenFile is set but unreadable.
        """
        if self.auth_token_file:
            return Path(self.auth_token_file).read_text(encoding="utf-8").strip()
        return self.auth_token

    @property
    def configured(self) -> bool:
        """True when host and port are set."""
        return bool(self.host) and self.port > 0

    def url(self) -> str:
        """Base URL."""
        return f"{self.protocol}://{self.host}:{self.port}"


class ClientsSection(Section):
    """EdgeX ``Clients`` section."""

    core_metadata: ClientSection = Field(default_factory=ClientSection)


class IngestSettings(ServiceSettings):
    """Settings of edgewatch-ingest."""

    default_port: ClassVar[int] = ports.INGEST
    device: DeviceSection = Field(default_factory=DeviceSection)
    modbus: ModbusSection = Field(default_factory=ModbusSection)
    opcua: OpcUaSection = Field(default_factory=OpcUaSection, alias="OPCUA")
    ethercat: EtherCatSection = Field(default_factory=EtherCatSection, alias="EtherCAT")
    clients: ClientsSection = Field(default_factory=ClientsSection)
    base_address: str = Field("", description="URL core-command uses to reach this service (default from Service)")
