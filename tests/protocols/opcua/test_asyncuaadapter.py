"""The asyncua adapter's import-time check passes on the pinned asyncua and fails loudly on a reshaped one."""

from __future__ import annotations

import pytest

from edgewatch.protocols.opcua import asyncuaadapter


class _NoPublishLoop:
    pass


class _SyncPublishLoop:
    def _publish_loop(self) -> None:
        return None


class _Server:
    def __init__(self) -> None:
        self.other_task = None


def test_check_passes_on_the_installed_asyncua() -> None:
    asyncuaadapter.check()


@pytest.mark.parametrize("session_cls", [_NoPublishLoop, _SyncPublishLoop])
def test_check_names_the_missing_publish_loop(session_cls: type) -> None:
    with pytest.raises(ImportError, match=r"_publish_loop.*pinned to 2\.1\.0|pinned to 2\.1\.0.*_publish_loop"):
        asyncuaadapter.check(session_cls=session_cls)


def test_check_names_the_missing_clock_task() -> None:
    with pytest.raises(ImportError, match="time_task"):
        asyncuaadapter.check(server_cls=_Server)
