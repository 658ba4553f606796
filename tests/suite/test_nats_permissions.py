"""NATS least privilege: every service user of the permission table may publish its own subjects and nothing else.

One real nats-server runs the ``nats-auth.conf`` that ``edgewatch secrets init`` writes; an ``admin`` tap
subscribed to everything sees which publishes the server let through. The suite working end to end under these
users is tests/suite/test_cli_up.py and tests/system (``edgewatch up`` always runs with them).
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from edgewatch.suite import natsusers
from edgewatch.suite.natsusers import SERVICE_USERS, USERS, password_file_name
from edgewatch.suite.secretsdir import AUTH_CONF, TOKENS, init_secrets, read_passwords
from tests.support.nats_server import NatsServer
from tests.support.suiteenv import service_envs
from tests.support.waiting import wait_until

# user -> (subjects it must be able to publish, subjects it must be refused)
PROBES: dict[str, tuple[list[str], list[str]]] = {
    "ingest": (
        ["edgex.events.device.modbus.pump.p1.Vibration", "edgex.response.edgewatch-ingest.r1"],
        ["edgewatch.rules.alert.overheat", "edgewatch.inference.score.p1", "edgex.core.command.request.p1.Speed.set"],
    ),
    "features": (["edgewatch.features.vector.p1"], ["edgewatch.rules.alert.overheat", "edgex.events.device.a.b.c.d"]),
    "inference": (["edgewatch.inference.score.p1"], ["edgewatch.rules.alert.overheat", "edgewatch.features.vector.p1"]),
    "rules": (
        [
            "edgewatch.rules.alert.overheat",
            "edgex.core.command.request.p1.Speed.set",
            "edgex.device.command.request.edgewatch-ingest.p1.Speed.set",  # Actuation.Route: direct
            "$JS.API.STREAM.INFO.KV_edgewatch-core-devices",
        ],
        [
            "edgewatch.inference.score.p1",
            "$KV.edgewatch-core-devices.cDE",  # the metadata it follows is read-only to it
            "$JS.API.STREAM.PURGE.KV_edgewatch-core-devices",
            "$JS.API.STREAM.INFO.KV_edgewatch-core-provisionwatchers",
        ],
    ),
    "core": (
        ["edgex.events.core.svc.prof.p1.src", "edgex.system-events.core-metadata.device.add.svc.prof"],
        ["edgewatch.rules.alert.overheat", "edgex.device.command.request.edgewatch-ingest.p1.Speed.set"],
    ),
    "core-command": (
        ["edgex.device.command.request.edgewatch-ingest.p1.Speed.set", "edgex.response.core-command.r1"],
        ["edgewatch.rules.alert.overheat", "edgex.events.device.a.b.c.d"],
    ),
    "sync": (
        ["$JS.API.STREAM.INFO.EW_SYNC_ALERT", "$JS.API.CONSUMER.INFO.EW_SYNC_EVENT.uploader"],
        ["edgewatch.rules.alert.overheat", "$JS.API.STREAM.DELETE.EDGEWATCH_CORE_EVENTS", "$JS.API.STREAM.CREATE.X"],
    ),
    "console": (
        ["edgex.core.command.request.p1.Speed.set"],
        ["edgewatch.rules.alert.overheat", "edgex.device.command.request.edgewatch-ingest.p1.Speed.set"],
    ),
}


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("secrets")
    init_secrets(d)
    return d


@pytest.fixture(scope="module")
def auth_server(secrets_dir: Path) -> Iterator[NatsServer]:
    server = NatsServer(extra_config=(secrets_dir / AUTH_CONF).read_text())
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


async def _connect(server: NatsServer, secrets_dir: Path, user: str, errors: list[str] | None = None) -> Client:
    async def on_error(e: Exception) -> None:
        if errors is not None:
            errors.append(str(e))

    password = (secrets_dir / password_file_name(user)).read_text().strip()
    return await nats.connect(server.url, user=user, password=password, error_cb=on_error, max_reconnect_attempts=0)


@pytest.fixture
async def tap(auth_server: NatsServer, secrets_dir: Path) -> AsyncIterator[tuple[Client, list[str]]]:
    seen: list[str] = []
    nc = await _connect(auth_server, secrets_dir, "admin")

    async def on_msg(msg: nats.aio.msg.Msg) -> None:
        seen.append(msg.subject)

    await nc.subscribe(">", cb=on_msg)
    await nc.flush()
    yield nc, seen
    await nc.close()


def test_secrets_init_writes_the_contract_files_private(secrets_dir: Path) -> None:
    names = {p.name for p in secrets_dir.iterdir()}
    assert names == {*TOKENS, AUTH_CONF, *(password_file_name(u) for u in USERS)}
    assert {"core", "core-command", "ingest", "features", "inference", "rules", "sync", "console"} <= set(USERS)
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets_dir.iterdir())
    before = read_passwords(secrets_dir)
    init_secrets(secrets_dir)  # rerun: keeps every secret
    assert read_passwords(secrets_dir) == before
    assert len(set(before.values())) == len(before)  # one password per user


def test_secrets_init_tls_writes_a_ca_and_a_server_certificate_for_the_service_names(tmp_path: Path) -> None:
    from cryptography import x509

    init_secrets(tmp_path, tls=True, extra_sans=["edgewatch-nats.edgewatch.svc"])
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((tmp_path / "tls.pem").read_bytes())
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert {"nats", "core", "sync", "localhost", "edgewatch-nats.edgewatch.svc"} <= set(names)
    assert stat.S_IMODE((tmp_path / "tls-key.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize("user", sorted(PROBES))
async def test_each_service_user_publishes_its_subjects_only(
    auth_server: NatsServer, secrets_dir: Path, tap: tuple[Client, list[str]], user: str
) -> None:
    _, seen = tap
    allowed, refused = PROBES[user]
    errors: list[str] = []
    nc = await _connect(auth_server, secrets_dir, user, errors)
    try:
        for subject in refused + allowed:
            await nc.publish(subject, b"x")
        await nc.flush()
        api = [s for s in allowed if s.startswith("$JS.API.")]  # JetStream answers these (a tap does not see them)
        for subject in api:
            reply = await nc.request(subject, b"", timeout=5)
            assert b'"type":"io.nats.jetstream.api.v1.' in reply.data, reply.data
        published = [s for s in allowed if s not in api]
        await wait_until(lambda: set(published) <= set(seen), 5, message=f"{user}'s allowed publishes at the tap")
        await wait_until(lambda: len(errors) >= len(refused), 5, message=f"{user}'s refusals")
    finally:
        await nc.close()
    assert not set(refused) & set(seen), f"{user} published outside its allow list"
    for subject in refused:
        # nats-py lower-cases the server's -ERR text
        assert any(f'permissions violation for publish to "{subject.lower()}"' in e.lower() for e in errors), errors


async def test_ingest_cannot_subscribe_to_alerts(auth_server: NatsServer, secrets_dir: Path) -> None:
    errors: list[str] = []
    nc = await _connect(auth_server, secrets_dir, "ingest", errors)
    try:
        await nc.subscribe("edgewatch.rules.alert.>")
        await nc.flush()
        await wait_until(lambda: bool(errors), 5, message="subscription refusal")
    finally:
        await nc.close()
    assert 'permissions violation for subscription to "edgewatch.rules.alert.>"' in errors[0].lower()


async def test_a_request_reply_round_trip_works_between_restricted_users(
    auth_server: NatsServer, secrets_dir: Path
) -> None:
    """rules asks core-command on an EdgeX request subject; core-command answers on the request's reply inbox."""
    rules = await _connect(auth_server, secrets_dir, "rules")
    cmd = await _connect(auth_server, secrets_dir, "core-command")
    try:

        async def answer(msg: nats.aio.msg.Msg) -> None:
            await msg.respond(b"done")

        await cmd.subscribe("edgex.core.command.request.>", cb=answer)
        await cmd.flush()
        replies: list[bytes] = []

        async def answered() -> bool:
            # Once in a CI run (loaded 2-core machine) the server answered "no responders" to the first request
            # although core-command's flush had returned: ask again; a refused permission never answers at all.
            with contextlib.suppress(nats.errors.NoRespondersError):
                replies.append((await rules.request("edgex.core.command.request.p1.Speed.set", b"{}", timeout=5)).data)
            return bool(replies)

        await wait_until(answered, 10, message="core-command's answer to rules' request")
        assert replies == [b"done"]
    finally:
        await asyncio.gather(rules.close(), cmd.close())


def test_the_table_names_the_services_default_streams_and_buckets() -> None:
    from edgewatch.core.config import CoreSection
    from edgewatch.sync.streams import stream_name
    from edgewatch.syncwire.batch import DataClass

    core = CoreSection()
    assert core.retention.stream == natsusers.CORE_EVENT_STREAM
    assert {f"{core.bucket_prefix}-{k}" for k in ("profiles", "devices", "deviceservices", "provisionwatchers")} == set(
        natsusers.CORE_KV_BUCKETS
    )
    from edgewatch.sync.config import SyncSettings

    assert {stream_name(SyncSettings(), c) for c in DataClass} == set(natsusers.SYNC_STREAMS)
    assert set(SERVICE_USERS) == {
        "core",
        "core-command",
        "core-all",
        "ingest",
        "features",
        "inference",
        "rules",
        "sync",
        "console",
    }


def test_the_secrets_command_writes_the_layout_and_keeps_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edgewatch.suite.cli import main

    target = tmp_path / "secrets"
    assert main(["secrets", "init", str(target), "--tls", "--san", "gw1.example"]) == 0
    assert {"api-token", "ca.pem", "tls.pem", "tls-key.pem", AUTH_CONF} <= {p.name for p in target.iterdir()}
    first = read_passwords(target)
    assert main(["secrets", "init", str(target)]) == 0
    assert read_passwords(target) == first
    assert main(["secrets", "init", str(target), "--force"]) == 0
    assert read_passwords(target) != first
    assert "wrote" in capsys.readouterr().out


def test_edgewatch_up_gives_each_service_its_user_and_no_auth_turns_it_off(tmp_path: Path) -> None:
    from edgewatch.suite.layout import Ports, SuiteConfig
    from edgewatch.suite.natsconf import write_nats_config

    on = SuiteConfig(tmp_path / "on", Ports())
    envs = service_envs(on)  # the background group's members too
    assert envs["edgewatch-ingest"]["MESSAGEBUS_USER"] == "ingest"
    assert envs["edgewatch-core"]["MESSAGEBUS_USER"] == "core-all"  # core-command's work too
    assert "edgewatch-core-command" not in envs
    assert Path(envs["edgewatch-sync"]["MESSAGEBUS_PASSWORDFILE"]).read_text().strip() == on.nats_credentials("sync")[1]
    assert "MESSAGEBUS_USER" not in envs["edgewatch-receiver"]  # the receiver does not join the bus
    assert "authorization {" in write_nats_config(on).read_text()
    off = SuiteConfig(tmp_path / "off", Ports(), auth=False)
    assert "authorization" not in write_nats_config(off).read_text()
    assert all("MESSAGEBUS_USER" not in env for env in service_envs(off).values())


async def test_rules_follows_the_metadata_buckets_read_only_under_its_user(
    auth_server: NatsServer, secrets_dir: Path
) -> None:
    """The direct route's replica: rules opens and watches a bucket core writes (a write of its own is refused:
    PROBES)."""
    from edgewatch.common.bus import NatsBus
    from edgewatch.common.bus.settings import MessageBusSection
    from edgewatch.common.contracts.deviceservice import DeviceService
    from edgewatch.common.service.kvreplica import KvReplica, kv_key
    from edgewatch.common.service.metrics import ServiceMetrics

    def bus(user: str) -> NatsBus:
        pw = (secrets_dir / password_file_name(user)).read_text().strip()
        cfg = MessageBusSection(servers=[auth_server.url], user=user, password=pw, reconnect_wait=0.1)
        return NatsBus(cfg, f"edgewatch-{user}", ServiceMetrics(user))

    core, rules = bus("core"), bus("rules")
    await core.connect()
    await rules.connect()
    replica = KvReplica(rules, "edgewatch-core-deviceservices", DeviceService, "device service", lambda e: e.name)
    try:
        kv = await core.js.create_key_value(bucket="edgewatch-core-deviceservices", history=1)
        svc = DeviceService(name="ds-1", base_address="http://h:1", admin_state="UNLOCKED")
        await kv.put(kv_key("ds-1"), svc.model_dump_json(by_alias=True).encode())
        replica.follow(retry=0.1)
        await wait_until(lambda: replica.loaded and "ds-1" in replica.items, 10, message="the replica loaded")
        locked = svc.model_copy(update={"admin_state": "LOCKED"})
        await kv.put(kv_key("ds-1"), locked.model_dump_json(by_alias=True).encode())
        await wait_until(lambda: replica.get("ds-1").admin_state == "LOCKED", 10, message="the watch saw the lock")
    finally:
        await replica.stop()
        await rules.drain()
        await core.drain()


def test_the_core_process_of_edgewatch_up_may_do_what_core_and_core_command_may_and_no_more() -> None:
    merged, core, command = (SERVICE_USERS[u] for u in ("core-all", "core", "core-command"))
    assert set(merged.publish) == set(core.publish) | set(command.publish)
    assert set(merged.subscribe) == set(core.subscribe) | set(command.subscribe)
    assert len(merged.publish) == len(set(merged.publish)) and not merged.unrestricted
