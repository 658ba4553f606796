"""Security names, the PKI folder's explicit trust list, and StatusCodes as reading tags and EdgeX error kinds."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from asyncua import ua
from cryptography import x509

from edgewatch.common.contracts.errors import ErrorKind
from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.errors import UntrustedCertificateError
from edgewatch.protocols.opcua.security import Pki, Security, thumbprint
from edgewatch.protocols.opcua.status import error_kind, is_node_error, status_tags


@pytest.mark.parametrize(
    ("policy", "mode", "expected"),
    [
        ("None", "", ("None", "None")),
        ("basic256sha256", "signandencrypt", ("Basic256Sha256", "SignAndEncrypt")),
        ("Aes128Sha256RsaOaep", "Sign", ("Aes128Sha256RsaOaep", "Sign")),
        ("Aes256Sha256RsaPss", "", ("Aes256Sha256RsaPss", "SignAndEncrypt")),
    ],
)
def test_security_names_are_matched_in_any_case(policy: str, mode: str, expected: tuple[str, str]) -> None:
    s = Security.parse(policy, mode)
    assert (s.policy, s.mode) == expected


@pytest.mark.parametrize(("policy", "mode"), [("Basic128Rsa15", "Sign"), ("None", "Sign"), ("Basic256Sha256", "None")])
def test_security_refuses_unknown_or_inconsistent_names(policy: str, mode: str) -> None:
    with pytest.raises(ProfileConfigError):
        Security.parse(policy, mode, device="d")


def test_pki_generates_its_certificate_once_with_a_private_key_only_the_owner_reads(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    cert, key = pki.own_certificate("urn:edgewatch:test")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    parsed = x509.load_der_x509_certificate(cert.read_bytes())
    uris = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "urn:edgewatch:test" in uris.get_values_for_type(x509.UniformResourceIdentifier)
    assert pki.own_certificate("urn:edgewatch:test") == (cert, key)
    assert cert.read_bytes() == pki.own_certificate("urn:edgewatch:test")[0].read_bytes()  # kept, not regenerated


def test_pki_refuses_an_untrusted_certificate_naming_it_then_accepts_it_once_trusted(tmp_path: Path) -> None:
    server = Pki(tmp_path / "server")
    der = server.own_certificate("urn:plant", name="plant-server")[0].read_bytes()
    pki = Pki(tmp_path / "client")
    with pytest.raises(UntrustedCertificateError) as e:
        pki.check_trusted(der, "opc.tcp://plant:4840")
    msg = e.value.message
    assert "CN=plant-server" in msg and thumbprint(der) in msg and "opc.tcp://plant:4840" in msg
    rejected = Path(e.value.rejected_path)
    assert rejected.read_bytes() == der and rejected.parent == pki.rejected_dir
    pki.trusted_dir.mkdir(parents=True)
    rejected.rename(pki.trusted_dir / rejected.name)  # what the operator does to trust it
    pki.check_trusted(der, "opc.tcp://plant:4840")


def test_status_codes_become_tags_and_error_kinds() -> None:
    assert dict(status_tags(0)) == {"opcuaStatus": "Good", "opcuaStatusCode": "0x00000000"}
    assert dict(status_tags(ua.StatusCodes.BadSensorFailure))["opcuaStatus"] == "BadSensorFailure"
    assert error_kind(ua.StatusCodes.BadNodeIdUnknown) is ErrorKind.ENTITY_DOES_NOT_EXIST
    assert error_kind(ua.StatusCodes.BadNotWritable) is ErrorKind.NOT_ALLOWED
    assert error_kind(ua.StatusCodes.BadUserAccessDenied) is ErrorKind.FORBIDDEN
    assert error_kind(ua.StatusCodes.BadTypeMismatch) is ErrorKind.CONTRACT_INVALID
    assert error_kind(ua.StatusCodes.BadDeviceFailure) is ErrorKind.COMMUNICATION
    assert is_node_error(ua.StatusCodes.BadNodeIdUnknown) and not is_node_error(ua.StatusCodes.BadSensorFailure)
