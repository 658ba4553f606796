"""EdgeX ``opcua`` protocol properties of a device -> a typed link (endpoint, security, identity, subscription).

EdgeX's ``Endpoint`` plus, per device (EdgeX device-opc-ua takes security from the service configuration only):
``SecurityPolicy`` (or EdgeX's ``Policy``), ``SecurityMode`` (or ``Mode``), ``UserName``, ``PasswordSecret`` (the
name of a secret: ``<SecretsDir>/<name>``, else the environment variable ``EDGEWATCH_SECRET_<NAME>``) or
``PasswordFile``, ``PublishingInterval`` (ms or a Go duration), ``Subscribe`` (resources to monitor, a list or
comma-separated, EdgeX's ``Writable.Resources`` moved to the device), ``TimestampOrigin`` and ``CertFile`` /
``KeyFile`` (the device's own client certificate instead of the generated one). A ``Password`` in the
device definition is refused: it would sit in clear in core-metadata. Strings may use ``${VAR}`` /
``${VAR:-default}``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewatch.ingest.drivers.opcua.samples import ORIGINS, Origin
from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.attributes import parse_millis
from edgewatch.protocols.opcua.client import Identity
from edgewatch.protocols.opcua.errors import OpcUaConnectError
from edgewatch.protocols.opcua.security import Security

__all__ = ["PROTOCOL", "LinkDefaults", "OpcUaLink", "SessionKey", "expand_env", "parse_link", "read_password"]

PROTOCOL = "opcua"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_KNOWN = {
    "Endpoint",
    "SecurityPolicy",
    "Policy",
    "SecurityMode",
    "Mode",
    "UserName",
    "Username",
    "PasswordSecret",
    "PasswordFile",
    "PublishingInterval",
    "Subscribe",
    "Resources",
    "TimestampOrigin",
    "CertFile",
    "KeyFile",
}


def expand_env(text: str, env: Mapping[str, str] | None = None) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``."""
    src = os.environ if env is None else env
    return _VAR.sub(lambda m: src.get(m.group(1)) or (m.group(2) or ""), text)


@dataclass(frozen=True, slots=True)
class SessionKey:
    """Devices with equal keys share one session (one endpoint, one security, one identity)."""

    endpoint: str
    security: Security
    user: str = ""
    password_secret: str = ""
    password_file: str = ""
    cert_file: str = ""  # the client certificate to present instead of the generated one (with key_file)
    key_file: str = ""


@dataclass(frozen=True, slots=True)
class LinkDefaults:
    """Service-wide defaults (the ``OPCUA`` settings section)."""

    policy: str = "None"
    mode: str = ""  # empty: SignAndEncrypt for a secure policy, None otherwise
    publishing_interval: float = 1.0  # seconds
    timestamp_origin: Origin = "source"
    cert_file: str = ""  # a client certificate for every device (EdgeX OPCUAServer.CertFile / KeyFile)
    key_file: str = ""


@dataclass(frozen=True, slots=True)
class OpcUaLink:
    """How one device is reached and subscribed."""

    key: SessionKey
    publishing_interval: float  # seconds
    subscribe: tuple[str, ...] = ()
    timestamp_origin: Origin = "source"

    @property
    def endpoint(self) -> str:
        """The endpoint URL."""
        return self.key.endpoint


def _text(props: Mapping[str, Any], *keys: str) -> str:
    for k in keys:
        v = props.get(k)
        if v is not None and v != "":
            return expand_env(str(v)).strip()
    return ""


def _names(raw: Any) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    items = expand_env(raw).split(",") if isinstance(raw, str) else [str(x) for x in raw]
    return tuple(s.strip() for s in items if s.strip())


def parse_link(device: str, protocols: Mapping[str, Mapping[str, Any]], defaults: LinkDefaults) -> OpcUaLink:
    """Parse a device's ``opcua`` protocol block.

    Raises:
        ProfileConfigError: a missing or invalid property; the message names the device and the key.
    """
    props = protocols.get(PROTOCOL)
    if props is None:
        raise ProfileConfigError("no opcua protocol", device=device)
    if "Password" in props:
        raise ProfileConfigError(
            "protocol property Password is refused: it would be stored in clear with the device; put the password "
            "in a secret file and name it with PasswordSecret (or PasswordFile)",
            device=device,
        )
    unknown = sorted(set(props) - _KNOWN)
    if unknown:
        raise ProfileConfigError(f"unknown opcua protocol properties {unknown}", device=device)
    endpoint = _text(props, "Endpoint")
    if not endpoint.startswith("opc.tcp://"):
        raise ProfileConfigError(f"protocol property Endpoint {endpoint!r} must be an opc.tcp:// URL", device=device)
    security = Security.parse(
        _text(props, "SecurityPolicy", "Policy") or defaults.policy,
        _text(props, "SecurityMode", "Mode") or (defaults.mode if not _text(props, "SecurityPolicy", "Policy") else ""),
        device=device,
    )
    user = _text(props, "UserName", "Username")
    secret, secret_file = _text(props, "PasswordSecret"), _text(props, "PasswordFile")
    if (secret or secret_file) and not user:
        raise ProfileConfigError("PasswordSecret / PasswordFile need a UserName", device=device)
    if user and not (secret or secret_file):
        raise ProfileConfigError(f"UserName {user!r} needs a PasswordSecret or PasswordFile", device=device)
    interval = defaults.publishing_interval
    if props.get("PublishingInterval") not in (None, ""):
        interval = parse_millis(expand_env(str(props["PublishingInterval"])), "PublishingInterval", device) / 1000.0
        if interval <= 0:
            raise ProfileConfigError("protocol property PublishingInterval must be > 0", device=device)
    origin = _text(props, "TimestampOrigin").lower() or defaults.timestamp_origin
    if origin not in ORIGINS:
        raise ProfileConfigError(f"TimestampOrigin {origin!r} is not one of {', '.join(ORIGINS)}", device=device)
    cert_file = _text(props, "CertFile") or defaults.cert_file
    key_file = _text(props, "KeyFile") or defaults.key_file
    if bool(cert_file) != bool(key_file):
        raise ProfileConfigError("CertFile and KeyFile go together", device=device)
    key = SessionKey(endpoint, security, user, secret, secret_file, cert_file, key_file)
    subscribe = _names(props.get("Subscribe", props.get("Resources")))
    return OpcUaLink(key, interval, subscribe, origin)


def _env_name(secret: str) -> str:
    return "EDGEWATCH_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", secret).upper()


def read_password(key: SessionKey, secrets_dir: Path) -> Identity | None:
    """The UserName identity of a session, its password read now from the secret (so a rotated secret is used at
    the next connect).

    Raises:
        OpcUaConnectError: the secret cannot be found or read (the message says where it was looked for).
    """
    if not key.user:
        return None
    if key.password_file:
        path = Path(os.path.expanduser(key.password_file))
        try:
            return Identity(key.user, path.read_text(encoding="utf-8").strip())
        except OSError as e:
            raise OpcUaConnectError(f"cannot read PasswordFile {path}: {e.strerror}", endpoint=key.endpoint) from e
    path = secrets_dir / key.password_secret
    if path.is_file():
        try:
            return Identity(key.user, path.read_text(encoding="utf-8").strip())
        except OSError as e:
            raise OpcUaConnectError(f"cannot read secret {path}: {e.strerror}", endpoint=key.endpoint) from e
    env = _env_name(key.password_secret)
    if env in os.environ:
        return Identity(key.user, os.environ[env])
    raise OpcUaConnectError(
        f"password secret {key.password_secret!r} not found: no file {path} and no environment variable {env}",
        endpoint=key.endpoint,
    )
