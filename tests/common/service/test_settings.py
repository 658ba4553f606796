"""Settings: defaults, YAML file, EdgeX-style environment overrides, validation messages, Writable hot reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edgewatch.common.service.host import ServiceHost
from edgewatch.common.service.settings import ServiceSettings, WritableSection, load_settings
from tests.support.waiting import wait_until


def test_settings_defaults_apply_without_file_or_env() -> None:
    s = load_settings(ServiceSettings, env={})
    assert s.message_bus.port == 4222 and s.writable.log_level == "INFO"


def test_settings_yaml_file_uses_edgex_pascal_case_keys(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("Service:\n  Port: 12345\nMessageBus:\n  Host: nats.local\nWritable:\n  LogLevel: DEBUG\n")
    s = load_settings(ServiceSettings, f, env={})
    assert (s.service.port, s.message_bus.host, s.writable.log_level) == (12345, "nats.local", "DEBUG")
    assert s.config_file == str(f)


def test_settings_env_overrides_file_with_edgex_names(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("Service:\n  Port: 12345\n")
    env = {
        "SERVICE_PORT": "23456",
        "MESSAGEBUS_HOST": "10.0.0.1",
        "WRITABLE_LOGLEVEL": "ERROR",
        "EDGEWATCH_DATA_DIR": "/tmp/ew",
    }
    s = load_settings(ServiceSettings, f, env=env)
    assert (s.service.port, s.message_bus.host, s.writable.log_level, s.data_dir) == (
        23456,
        "10.0.0.1",
        "ERROR",
        "/tmp/ew",
    )


def test_settings_invalid_value_names_the_key() -> None:
    with pytest.raises(ValidationError) as e:
        load_settings(ServiceSettings, env={"SERVICE_PORT": "99999"})
    assert "Service" in str(e.value) and "Port" in str(e.value)


def test_settings_unknown_key_in_file_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("Service:\n  Prot: 1\n")
    with pytest.raises(ValidationError) as e:
        load_settings(ServiceSettings, f, env={})
    assert "Prot" in str(e.value)


async def test_writable_section_is_hot_reloaded_from_the_config_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("Writable:\n  LogLevel: INFO\n")
    host = ServiceHost("t", load_settings(ServiceSettings, f, env={}))
    seen: list[tuple[str, str]] = []
    host.on_writable_change(lambda old, new: seen.append((old.log_level, new.log_level)))
    import asyncio
    import os

    task = asyncio.create_task(host.watch_config(interval=0.05))
    await asyncio.sleep(0.1)  # let the watcher record the file's first mtime
    try:
        f.write_text("Writable:\n  LogLevel: DEBUG\n")
        os.utime(f, (1, 1))  # a distinct mtime even within one clock tick
        await wait_until(lambda: seen == [("INFO", "DEBUG")], timeout=5)
        assert host.settings.writable == WritableSection(log_level="DEBUG")
        f.write_text("Writable:\n  LogLevel: NOPE\n")  # invalid: rejected, old value kept
        os.utime(f, (2, 2))
        await asyncio.sleep(0.3)
        assert host.settings.writable.log_level == "DEBUG"
    finally:
        task.cancel()
