"""Security per device against a secured asyncua server: Basic256Sha256 SignAndEncrypt with a UserName whose
password comes from a secret file, the client certificate generated on first use, server certificates trusted
explicitly (an untrusted one is refused with an error naming it, then accepted once trusted, with no restart), and a
password in the device definition refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import pytest_asyncio
from asyncua import ua

from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.drivers.opcua.driver import OpcUaDriver
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.ingest.errors import DeviceConnectError
from edgewatch.protocols.opcua.client import Identity, close_client, open_client
from edgewatch.protocols.opcua.security import Security, thumbprint
from edgewatch.sim.opcua.server import OpcUaSim
from tests.support.opcua_sim import Recorder, make_device, make_profile, start_opcua_sim
from tests.support.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROWS = [
    ("Speed", "Float64", {"nodeId": "ns=2;s=Mixer1.Speed", "monitored": True}, {"readWrite": "R"}),
    ("SpeedSetpoint", "Float64", {"nodeId": "ns=2;s=Mixer1.SpeedSetpoint"}, {}),
]
SECURE = {
    "SecurityPolicy": "Basic256Sha256",
    "SecurityMode": "SignAndEncrypt",
    "UserName": "operator",
    "PasswordSecret": "plant-operator",
    "PublishingInterval": "100ms",
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_sim(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    pki = tmp_path_factory.mktemp("sim-pki")
    sim = await start_opcua_sim(
        plant=True, secure=True, insecure=False, pki=pki, users={"operator": "s3cret"}, anonymous=False
    )
    try:
        yield sim
    finally:
        await sim.close()


def _options(root: Path, sim: OpcUaSim | None, password: str = "s3cret") -> OpcUaOptions:
    options = OpcUaOptions.local(root)
    options.pool.secrets_dir.mkdir(parents=True)
    (options.pool.secrets_dir / "plant-operator").write_text(password + "\n")
    if sim is not None:
        options.pool.pki.trust(sim.certificate)
    return options


async def _publish(_e: object) -> None:
    return None


async def test_sign_and_encrypt_with_a_username_from_a_secret_reads_writes_and_subscribes(
    secure_sim: OpcUaSim, tmp_path: Path
) -> None:
    rec = Recorder(_options(tmp_path, secure_sim))
    try:
        await rec.registry.put_profile(make_profile("mixer", ROWS))
        await rec.registry.put_device(make_device("mixer-s", "mixer", secure_sim.endpoint, **SECURE))
        await wait_until(lambda: rec.values("mixer-s", "Speed"), 10, message="pushed over the secure channel")
        commands = CommandService(rec.registry, _publish)
        await commands.set("mixer-s", "SpeedSetpoint", {"SpeedSetpoint": "1750"})
        assert secure_sim.get_value("Mixer1.SpeedSetpoint") == 1750.0
        (reading,) = (await commands.get("mixer-s", "SpeedSetpoint")).readings
        assert reading.value == "1.75e+03"
        driver = rec.registry.runtimes["mixer-s"].driver
        assert isinstance(driver, OpcUaDriver)
        client = driver.session.client
        assert client is not None and client.security_policy.URI.endswith("#Basic256Sha256")
        assert client.security_policy.Mode == ua.MessageSecurityMode.SignAndEncrypt
        key = rec.options.pool.pki.own_dir / "key.pem"  # the client certificate, generated on first use
        assert (rec.options.pool.pki.own_dir / "cert.der").is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    finally:
        await rec.close()


async def test_untrusted_server_certificate_is_refused_by_name_then_trusted_without_restart(
    secure_sim: OpcUaSim, tmp_path: Path
) -> None:
    rec = Recorder(_options(tmp_path, None))
    try:
        await rec.registry.put_profile(make_profile("mixer", ROWS))
        await rec.registry.put_device(make_device("mixer-u", "mixer", secure_sim.endpoint, **SECURE))
        await wait_until(lambda: ("mixer-u", "DOWN") in rec.states, 10, message="device DOWN")
        driver = rec.registry.runtimes["mixer-u"].driver
        assert isinstance(driver, OpcUaDriver)
        with pytest.raises(DeviceConnectError) as e:
            await driver.read(["SpeedSetpoint"])
        der = secure_sim.certificate
        assert "server certificate 'O=edgewatch,CN=edgewatch-sim'" in e.value.message
        assert f"SHA-1 thumbprint {thumbprint(der)}" in e.value.message and "is not trusted" in e.value.message
        pki = rec.options.pool.pki
        (rejected,) = pki.rejected_dir.iterdir()
        assert rejected.read_bytes() == der
        pki.trusted_dir.mkdir(parents=True)
        rejected.rename(pki.trusted_dir / rejected.name)  # the operator trusts it
        await wait_until(lambda: rec.states[-1] == ("mixer-u", "UP"), 15, message="UP once trusted")
        assert (await driver.read(["SpeedSetpoint"]))["SpeedSetpoint"].good
    finally:
        await rec.close()


async def test_a_wrong_password_is_reported_and_a_password_in_the_device_is_refused(
    secure_sim: OpcUaSim, tmp_path: Path
) -> None:
    rec = Recorder(_options(tmp_path, secure_sim, password="wrong"))
    try:
        await rec.registry.put_profile(make_profile("mixer", ROWS))
        await rec.registry.put_device(make_device("mixer-p", "mixer", secure_sim.endpoint, **SECURE))
        await wait_until(lambda: ("mixer-p", "DOWN") in rec.states, 10, message="device DOWN")
        driver = rec.registry.runtimes["mixer-p"].driver
        assert isinstance(driver, OpcUaDriver)
        assert "the server refused user 'operator': BadUserAccessDenied" in driver.last_error
        clear = {**SECURE, "Password": "s3cret"}
        await rec.registry.put_device(make_device("mixer-c", "mixer", secure_sim.endpoint, **clear))
        assert "mixer-c" not in rec.registry.runtimes
        assert "Password is refused" in rec.registry.errors["mixer-c"]
    finally:
        await rec.close()


@pytest.mark.parametrize(
    ("policy", "mode"),
    [("Aes128Sha256RsaOaep", "SignAndEncrypt"), ("Aes256Sha256RsaPss", "Sign"), ("Basic256Sha256", "Sign")],
)
async def test_every_supported_policy_opens_a_session(
    secure_sim: OpcUaSim, tmp_path: Path, policy: str, mode: str
) -> None:
    options = _options(tmp_path, secure_sim)
    security = Security.parse(policy, mode)
    client = await open_client(secure_sim.endpoint, security, options.pool.pki, identity=Identity("operator", "s3cret"))
    try:
        assert await client.get_node(ua.NodeId("Mixer1.Running", 2)).read_value() is True
        assert client.security_policy.URI == security.policy_class.URI
        assert client.security_policy.Mode == security.message_mode
    finally:
        await close_client(client)
