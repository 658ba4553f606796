"""bus.natsadapter: its import-time check passes on the pinned nats-py and fails loudly when a hook is gone."""

from __future__ import annotations

import dataclasses
from importlib.metadata import version
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.headers import Headers
from edgewatch.common.bus.natsadapter import PINNED_VERSION, BusClient, SinkClient, check_hooks
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


class _NoHeaderHook(Client):  # type: ignore[misc]
    _parse_header_lines = None


class _NoProcessMsg(Client):  # type: ignore[misc]
    _process_msg = None


class _ProcessMsgChanged(Client):  # type: ignore[misc]
    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes, extra: Any
    ) -> None:
        pass


class _NoProcessHeaders(Client):  # type: ignore[misc]
    _process_headers = None


class _NoSubs(Client):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        del self._subs


class _NoStats(Client):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.stats = {}


class _NoSubscriptionId(Subscription):  # type: ignore[misc]
    def __init__(self, conn: Any, id: int = 0) -> None:
        super().__init__(conn, id)
        del self._id


@dataclasses.dataclass
class _MsgWithoutSid:
    _client: Any
    subject: str = ""


def test_the_installed_nats_py_is_the_pinned_one_and_has_every_hook() -> None:
    assert version("nats-py") == PINNED_VERSION
    check_hooks()  # also ran at import
    assert issubclass(SinkClient, BusClient) and issubclass(BusClient, Client)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"client_cls": _NoHeaderHook}, "_NoHeaderHook._parse_header_lines is not a staticmethod"),
        ({"mail_parser": object()}, "parse_email is set"),
        ({"client_cls": _NoProcessMsg}, "_NoProcessMsg._process_msg is not a coroutine function"),
        ({"client_cls": _ProcessMsgChanged}, "_process_msg takes (self, sid, subject, reply, data, headers, extra)"),
        ({"client_cls": _NoProcessHeaders}, "_NoProcessHeaders._process_headers is not a coroutine function"),
        ({"client_cls": _NoSubs}, "_NoSubs()._subs is not a dict"),
        ({"client_cls": _NoStats}, "_NoStats().stats has no in_msgs/in_bytes"),
        ({"subscription_cls": _NoSubscriptionId}, "_NoSubscriptionId._id does not hold the sid"),
        ({"msg_cls": _MsgWithoutSid}, "_MsgWithoutSid has no _client/_sid"),
    ],
)
def test_check_fails_loudly_naming_the_version_and_the_missing_hook(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ImportError) as e:
        check_hooks(**kwargs)
    text = str(e.value)
    assert needle in text
    assert f"nats-py {version('nats-py')} (edgewatch is pinned to {PINNED_VERSION})" in text


async def test_bus_client_keeps_repeated_headers_end_to_end(nats_server: NatsServer) -> None:
    nc = BusClient()
    await nc.connect(servers=[nats_server.url])
    try:
        got: list[Msg] = []

        async def cb(msg: Msg) -> None:
            got.append(msg)

        await nc.subscribe("hdr.test", cb=cb)
        await nc.publish("hdr.test", b"x", headers=Headers.from_pairs([("QueryParams", "a:1"), ("QueryParams", "b:2")]))
        await nc.publish("hdr.test", b"y", headers={"Single": "1"})
        await nc.flush()
        await wait_until(lambda: len(got) == 2, 5, message="both messages delivered")
        first, second = got
        assert isinstance(first.headers, Headers) and first.headers.getall("QueryParams") == ["a:1", "b:2"]
        assert second.headers == {"Single": "1"}
    finally:
        await nc.close()
