"""OPC UA security: policy and mode names, and the client's PKI folder (own certificate, trust list, rejects).

The PKI folder has three parts, as OPC UA applications lay it out::

    <pki>/own/cert.der  own/key.pem    the client's application instance certificate, generated on first use
    <pki>/trusted/*.der|*.pem          server certificates trusted explicitly (copy one here to trust it)
    <pki>/rejected/*.der               certificates a server presented that were not trusted (for review)

Trust is explicit: a server whose certificate is not in ``trusted/`` is refused with an error that names the
certificate (subject, SHA-1 thumbprint) and where its copy was written in ``rejected/``.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from asyncua import ua
from asyncua.crypto import cert_gen, security_policies
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.errors import UntrustedCertificateError

__all__ = ["MODES", "POLICIES", "Pki", "Security", "describe_certificate", "thumbprint"]

POLICIES: Final[dict[str, type[security_policies.SecurityPolicy]]] = {
    "None": security_policies.SecurityPolicyNone,
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128Sha256RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256Sha256RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
"""Supported SecurityPolicy names (the deprecated Basic128Rsa15 / Basic256 are refused)."""

MODES: Final[dict[str, ua.MessageSecurityMode]] = {
    "None": ua.MessageSecurityMode.None_,
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}


def _pick(table: dict[str, object], value: str, key: str, device: str) -> str:
    text = (value or "None").strip()
    for name in table:
        if name.lower() == text.lower():
            return name
    raise ProfileConfigError(f"{key} {value!r} is not one of {', '.join(table)}", device=device)


@dataclass(frozen=True, slots=True)
class Security:
    """The SecurityPolicy and MessageSecurityMode of one connection."""

    policy: str = "None"
    mode: str = "None"

    @classmethod
    def parse(cls, policy: str, mode: str, *, device: str = "") -> Security:
        """Names in any case; a policy without a mode means SignAndEncrypt, None with a mode is refused.

        Raises:
            ProfileConfigError: an unknown or inconsistent name.
        """
        p = _pick(dict(POLICIES), policy, "SecurityPolicy", device)
        m = _pick(dict(MODES), mode, "SecurityMode", device) if mode else ("SignAndEncrypt" if p != "None" else "None")
        if (p == "None") != (m == "None"):
            raise ProfileConfigError(
                f"SecurityPolicy {p} and SecurityMode {m} do not go together (None goes with None only)", device=device
            )
        return cls(p, m)

    @property
    def secure(self) -> bool:
        """True unless policy and mode are None."""
        return self.policy != "None"

    @property
    def policy_class(self) -> type[security_policies.SecurityPolicy]:
        """The asyncua policy class."""
        return POLICIES[self.policy]

    @property
    def message_mode(self) -> ua.MessageSecurityMode:
        """The asyncua MessageSecurityMode."""
        return MODES[self.mode]

    def __str__(self) -> str:
        return f"{self.policy}/{self.mode}"


def thumbprint(der: bytes) -> str:
    """The SHA-1 thumbprint OPC UA tools show (hex, upper case)."""
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()


def _load(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def describe_certificate(der: bytes) -> str:
    """``'CN=Plant, O=ACME' (SHA-1 thumbprint 3F2A..., valid until 2027-05-01)`` for messages."""
    try:
        cert = _load(der)
    except ValueError:
        return f"(unparsable certificate, SHA-1 thumbprint {thumbprint(der)})"
    until = cert.not_valid_after_utc.date().isoformat()
    return f"'{cert.subject.rfc4514_string()}' (SHA-1 thumbprint {thumbprint(der)}, valid until {until})"


class Pki:
    """A client PKI folder: own certificate (created on first use), trusted and rejected certificates."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(os.path.expanduser(str(root)))

    @property
    def own_dir(self) -> Path:
        """``own/``."""
        return self.root / "own"

    @property
    def trusted_dir(self) -> Path:
        """``trusted/``."""
        return self.root / "trusted"

    @property
    def rejected_dir(self) -> Path:
        """``rejected/``."""
        return self.root / "rejected"

    def own_certificate(self, application_uri: str, *, name: str = "edgewatch") -> tuple[Path, Path]:
        """``(cert.der, key.pem)``, generated (2048-bit RSA, SHA-256, 5 years) when missing; the key is 0600.

        Blocking (key generation): call it through ``asyncio.to_thread`` from a running loop.
        """
        cert, key = self.own_dir / "cert.der", self.own_dir / "key.pem"
        if cert.is_file() and key.is_file():
            return cert, key
        self.own_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        private_key = cert_gen.generate_private_key()
        host = socket.gethostname()
        certificate = cert_gen.generate_self_signed_app_certificate(
            private_key,
            name,
            {"organizationName": "edgewatch"},
            [x509.UniformResourceIdentifier(application_uri), x509.DNSName(host)],
            extended=[ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH],
            days=5 * 365,
        )
        tmp = key.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(cert_gen.dump_private_key_as_pem(private_key))
        os.replace(tmp, key)
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
        return cert, key

    def _trusted(self) -> dict[str, Path]:
        out: dict[str, Path] = {}
        if not self.trusted_dir.is_dir():
            return out
        for path in sorted(self.trusted_dir.iterdir()):
            if path.suffix.lower() not in (".der", ".pem", ".crt", ".cer"):
                continue
            try:
                der = _load(path.read_bytes()).public_bytes(serialization.Encoding.DER)
            except (OSError, ValueError):
                continue
            out[hashlib.sha256(der).hexdigest()] = path
        return out

    def trust(self, der: bytes) -> Path:
        """Add a certificate to the trust list (what an operator does by copying it into ``trusted/``)."""
        self.trusted_dir.mkdir(parents=True, exist_ok=True)
        path = self.trusted_dir / f"{_file_stem(der)}.der"
        path.write_bytes(_load(der).public_bytes(serialization.Encoding.DER))
        return path

    def check_trusted(self, der: bytes, endpoint: str) -> None:
        """Accept a server certificate that is in the trust list and currently valid.

        Raises:
            UntrustedCertificateError: not trusted (a copy goes to ``rejected/``), or trusted but expired; the
                message names the certificate, the endpoint and what to do.
        """
        canonical = _load(der).public_bytes(serialization.Encoding.DER)
        summary = describe_certificate(canonical)
        if hashlib.sha256(canonical).hexdigest() not in self._trusted():
            self.rejected_dir.mkdir(parents=True, exist_ok=True)
            rejected = self.rejected_dir / f"{_file_stem(canonical)}.der"
            rejected.write_bytes(canonical)
            raise UntrustedCertificateError(
                f"server certificate {summary} is not trusted; to trust it, copy {rejected} into {self.trusted_dir}",
                endpoint=endpoint,
                thumbprint=thumbprint(canonical),
                rejected_path=str(rejected),
            )
        cert = _load(canonical)
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise UntrustedCertificateError(
                f"trusted server certificate {summary} is not valid now", endpoint=endpoint, thumbprint=thumbprint(der)
            )


def _file_stem(der: bytes) -> str:
    try:
        names = _load(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = str(names[0].value) if names else "certificate"
    except ValueError:
        cn = "certificate"
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', cn)[:40]} [{thumbprint(der)}]"
