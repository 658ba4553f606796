"""``python -m edgewatch.sim.opcua`` (the plant, a secured endpoint beside the open one) browsed with
``edgewatch opcua browse``: the EdgeX profile it writes loads in ingest and reads every variable; a secure browse
refuses the untrusted server certificate by name until it is trusted in the shared PKI folder."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from edgewatch.common.contracts.yamlcompat import load_profile_yaml
from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from tests.support.opcua_sim import Recorder, make_device
from tests.support.ports import free_port
from tests.support.waiting import wait_until


def _open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


async def _browse(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edgewatch.suite", "opcua", "browse", *args,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def _publish(_e: object) -> None:
    return None


async def test_browse_writes_a_profile_ingest_reads_and_refuses_an_untrusted_server(tmp_path: Path) -> None:
    port = free_port()
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edgewatch.sim.opcua", "--port", str(port),
        "--secure", "--insecure-too", "--pki", str(tmp_path / "sim-pki"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"opc.tcp://127.0.0.1:{port}/edgewatch/sim"
    data = tmp_path / "data"
    out_file = tmp_path / "mixer.yaml"
    try:
        await wait_until(lambda: _open(port), 30, message="simulator CLI listening")
        rc, out = await _browse(endpoint, "--root", "ns=2;s=Plant", "--name", "mixer", "--profile-out", str(out_file))
        assert rc == 0, out
        assert "11 variables, 11 resources, 0 skipped" in out
        profile = load_profile_yaml(out_file.read_text())
        speed = profile.resource("Mixer1_Speed")
        assert speed is not None and speed.attributes == {"nodeId": "ns=2;s=Mixer1.Speed"}
        assert (speed.properties.value_type, speed.properties.read_write, speed.properties.units) == (
            "Float64",
            "R",
            "rpm",
        )
        setpoint = profile.resource("Mixer1_SpeedSetpoint")
        assert setpoint is not None and setpoint.properties.read_write == "RW"

        # the generated profile drives ingest as it is: every resource reads, in one Read request
        rec = Recorder(OpcUaOptions.local(tmp_path / "ingest"))
        try:
            await rec.registry.put_profile(profile)
            await rec.registry.put_device(make_device("mixer-1", "mixer", endpoint))
            event = await CommandService(rec.registry, _publish).get("mixer-1", ".*")
            assert len(event.readings) == 11 and not any(r.is_null for r in event.readings)
        finally:
            await rec.close()

        secure = ("--policy", "Basic256Sha256", "--mode", "SignAndEncrypt", "--data-dir", str(data))
        rc, out = await _browse(endpoint, *secure)
        assert rc == 2 and "server certificate 'O=edgewatch,CN=edgewatch-sim'" in out and "is not trusted" in out
        rejected = next((data / "opcua" / "pki" / "rejected").iterdir())
        trusted = data / "opcua" / "pki" / "trusted"
        trusted.mkdir()
        rejected.rename(trusted / rejected.name)
        rc, out = await _browse(endpoint, *secure, "--root", "ns=2;s=Simulation")
        assert rc == 0, out
        assert "Counter" in out and "ns=3;i=1002" in out and "Int32" in out
        assert (data / "opcua" / "pki" / "own" / "cert.der").is_file()  # the same client certificate ingest uses
    finally:
        sim.terminate()
        await asyncio.wait_for(sim.wait(), 10)
