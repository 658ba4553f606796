"""The secrets directory of a deployment: what ``edgewatch secrets init DIR`` writes and ``edgewatch up`` uses.

File names are a contract shared with compose and the Helm chart (``kubectl create secret generic
edgewatch-secrets --from-file=DIR``); every file is mode 0600, the directory 0700:

- ``api-token``: the REST bearer token of the gateway services; ``receiver-token``: the cloud receiver's;
- ``nats-<user>.password`` for every user of :data:`edgewatch.suite.natsusers.USERS`;
- ``nats-auth.conf``: nats-server's ``authorization`` block of those users (rewritten from the table each time);
- with TLS: ``ca.pem``, ``tls.pem``, ``tls-key.pem`` (one server certificate for nats-server and every REST
  service, its SANs the compose service names, ``localhost``, 127.0.0.1 and any extra names given).

Existing secrets are kept (rerunning is safe); ``force`` replaces them all.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from edgewatch.suite.natsusers import USERS, authorization_block, password_file_name

__all__ = [
    "AUTH_CONF",
    "CA_CERT",
    "DEFAULT_SANS",
    "TLS_CERT",
    "TLS_KEY",
    "TOKENS",
    "init_secrets",
    "read_passwords",
]

TOKENS = ("api-token", "receiver-token")
AUTH_CONF = "nats-auth.conf"
CA_CERT, TLS_CERT, TLS_KEY = "ca.pem", "tls.pem", "tls-key.pem"
DEFAULT_SANS = (
    "localhost",
    "nats",
    "core",
    "core-command",
    "ingest",
    "ingest-ethercat",
    "features",
    "inference",
    "rules",
    "sync",
    "receiver",
    "console",
    "127.0.0.1",
)
"""Server certificate names: compose service names (Kubernetes Service names come in as extra names)."""


def _write(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _random_secret(path: Path, force: bool) -> Path | None:
    if path.exists() and not force:
        os.chmod(path, 0o600)
        return None
    return _write(path, secrets.token_urlsafe(32).encode())


def read_passwords(directory: Path) -> dict[str, str]:
    """User -> password from ``nats-<user>.password`` files."""
    return {u: (directory / password_file_name(u)).read_text(encoding="utf-8").strip() for u in USERS}


def init_secrets(
    directory: Path, *, tls: bool = False, force: bool = False, extra_sans: Iterable[str] = ()
) -> list[Path]:
    """Create what is missing in ``directory`` (everything with ``force``); return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    written = [p for p in (_random_secret(directory / n, force) for n in TOKENS) if p]
    written += [p for p in (_random_secret(directory / password_file_name(u), force) for u in USERS) if p]
    written.append(_write(directory / AUTH_CONF, authorization_block(read_passwords(directory)).encode()))
    if tls and (force or not (directory / TLS_CERT).exists()):
        written += _write_tls(directory, (*DEFAULT_SANS, *extra_sans))
    return written


def _write_tls(directory: Path, names: Iterable[str]) -> list[Path]:
    """A private CA (10 years) and one server certificate (2 years) signed by it, ECDSA P-256."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgewatch CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .sign(ca_key, hashes.SHA256())
    )
    sans: list[x509.GeneralName] = []
    for n in dict.fromkeys(names):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgewatch")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=730))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return [
        _write(directory / CA_CERT, ca.public_bytes(pem)),
        _write(directory / TLS_CERT, cert.public_bytes(pem)),
        _write(directory / TLS_KEY, key_pem),
    ]
