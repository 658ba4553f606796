"""The one place nats-py internals are used, checked at import against the pinned nats-py.

nats-py is pinned exactly (``libs/common/pyproject.toml``); :func:`check_hooks` runs when this module is imported
and fails with an ImportError naming the installed version and every hook that is gone, so an upgrade cannot
silently drop one. The hooks:

- ``Client._parse_header_lines`` (static: raw header block -> dict) is replaced by
  :func:`~edgewatch.common.bus.headers.parse_header_block`, which keeps repeated names (EdgeX ``QueryParams``)
  at the cost of one decode per block. nats-py calls it only while ``fast_mail_parser`` is not installed
  (``nats.aio.client.parse_email`` is None), so that is checked too. Every suite connection uses it.
- ``Client._process_msg(sid, subject, reply, data, headers)``, with ``Client._subs``, ``Client._process_headers``,
  ``Client.stats``, ``Subscription._id`` and ``Msg(..., _sid=)``: a :class:`SinkClient` subscription may have a
  *direct sink*, a plain function its messages are handed to as they are parsed instead of going through the
  subscription's asyncio queue and delivery task (about a third of the per-message cost of a JetStream pull;
  sync's outbox drain uses it).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import nats.aio.client
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from edgewatch.common.bus.headers import parse_header_block

__all__ = ["PINNED_VERSION", "BusClient", "SinkClient", "check_hooks"]

PINNED_VERSION = "2.16.0"
"""The nats-py version these hooks are written and tested against (the pyproject pin)."""

_PROCESS_MSG_PARAMS = ["self", "sid", "subject", "reply", "data", "headers"]
_MAIL_PARSER: object = getattr(nats.aio.client, "parse_email", None)


def _problems(client_cls: type[Any], msg_cls: type[Any], subscription_cls: type[Any], mail_parser: object) -> list[str]:
    found: list[str] = []
    parse = inspect.getattr_static(client_cls, "_parse_header_lines", None)
    if not isinstance(parse, staticmethod):
        found.append(f"{client_cls.__name__}._parse_header_lines is not a staticmethod")
    if mail_parser is not None:
        found.append("nats.aio.client.parse_email is set (fast_mail_parser installed): _parse_header_lines is bypassed")
    process = getattr(client_cls, "_process_msg", None)
    if not inspect.iscoroutinefunction(process):
        found.append(f"{client_cls.__name__}._process_msg is not a coroutine function")
    elif (params := list(inspect.signature(process).parameters)) != _PROCESS_MSG_PARAMS:
        found.append(
            f"{client_cls.__name__}._process_msg takes ({', '.join(params)}), not ({', '.join(_PROCESS_MSG_PARAMS)})"
        )
    if not inspect.iscoroutinefunction(getattr(client_cls, "_process_headers", None)):
        found.append(f"{client_cls.__name__}._process_headers is not a coroutine function")
    client = client_cls()
    if not isinstance(getattr(client, "_subs", None), dict):
        found.append(f"{client_cls.__name__}()._subs is not a dict of subscriptions")
    stats = getattr(client, "stats", None)
    if not isinstance(stats, dict) or not {"in_msgs", "in_bytes"} <= stats.keys():
        found.append(f"{client_cls.__name__}().stats has no in_msgs/in_bytes counters")
    if getattr(subscription_cls(None, 7), "_id", None) != 7:
        found.append(f"{subscription_cls.__name__}._id does not hold the sid")
    fields = {f.name for f in dataclasses.fields(msg_cls)} if dataclasses.is_dataclass(msg_cls) else set()
    if not {"_client", "_sid"} <= fields:
        found.append(f"{msg_cls.__name__} has no _client/_sid dataclass fields")
    return found


def check_hooks(
    client_cls: type[Any] = Client,
    msg_cls: type[Any] = Msg,
    subscription_cls: type[Any] = Subscription,
    mail_parser: object = _MAIL_PARSER,
) -> None:
    """Verify every nats-py internal this module hooks (the defaults are the installed nats-py's).

    Raises:
        ImportError: a hook is missing or changed shape; the message names the installed nats-py version, the
            pinned one, and each hook.
    """
    found = _problems(client_cls, msg_cls, subscription_cls, mail_parser)
    if found:
        raise ImportError(
            f"nats-py {version('nats-py')} (edgewatch is pinned to {PINNED_VERSION}) lacks what "
            f"edgewatch.common.bus.natsadapter hooks: {'; '.join(found)}"
        )


check_hooks()


class BusClient(Client):  # type: ignore[misc]
    """nats-py client whose header parser keeps repeated names (every suite connection)."""

    _parse_header_lines = staticmethod(parse_header_block)


class SinkClient(BusClient):
    """A :class:`BusClient` whose subscriptions may have a direct sink (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._sinks: dict[int, Callable[[Msg], None]] = {}

    def set_sink(self, sub: Subscription, sink: Callable[[Msg], None] | None) -> None:
        """Deliver ``sub``'s messages straight to ``sink`` (None: back to the subscription's own delivery)."""
        if sink is None:
            self._sinks.pop(sub._id, None)
        else:
            self._sinks[sub._id] = sink

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        sink = self._sinks.get(sid)
        if sink is None or sid not in self._subs:
            self._sinks.pop(sid, None)
            await super()._process_msg(sid, subject, reply, data, headers)
            return
        self.stats["in_msgs"] += 1
        self.stats["in_bytes"] += len(data)
        hdr = await self._process_headers(headers) if headers else None
        sink(Msg(self, subject.decode(), reply.decode(), data, hdr, _sid=sid))
