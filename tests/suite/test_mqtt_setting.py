"""`edgewatch up --mqtt`: nats-server gets its MQTT listener (same auth as NATS) and every service EdgeX's json
message format; without it neither changes. The running interop is tests/system/test_edgex_mqtt_interop.py."""

from __future__ import annotations

from pathlib import Path

from edgewatch.suite.layout import Ports, SuiteConfig
from edgewatch.suite.natsconf import write_nats_config
from tests.support.suiteenv import service_envs as _envs


def test_mqtt_setting_adds_the_listener_and_the_json_format_everywhere(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path, Ports.parse("mqtt=11883"), mqtt=True, mqtt_host="0.0.0.0")
    conf = write_nats_config(cfg).read_text()
    assert 'mqtt {\n  host: "0.0.0.0"\n  port: 11883\n}' in conf
    assert 'server_name: "edgewatch-local"' in conf and "jetstream {" in conf  # nats-server's MQTT needs both
    edgex_password = cfg.nats_credentials("edgex")[1]  # MQTT clients log in as the `edgex` NATS user
    assert f'user: "edgex", password: "{edgex_password}"' in conf
    envs = _envs(cfg)
    assert len(envs) == 8  # core (metadata, data, command), ingest, features, inference, rules, sync, receiver, console
    assert all(env.get("MESSAGEBUS_FORMAT") == "json" for env in envs.values()), envs


def test_without_the_mqtt_setting_nothing_changes(tmp_path: Path) -> None:
    cfg = SuiteConfig(tmp_path, Ports())
    assert "mqtt {" not in write_nats_config(cfg).read_text()
    assert all("MESSAGEBUS_FORMAT" not in env for env in _envs(cfg).values())
