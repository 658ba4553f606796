"""EdgeX-style request/reply: the responder answers on ``edgex.response.<responder>.<requestId>``.

This is how EdgeX's own services talk (COMPAT.md 5.1), so an edgewatch core-command can drive an EdgeX device
service over NATS and vice versa. A request never hangs: no answer within the timeout raises 503, and when nothing
subscribes to the request subject the server's no-responders status (sent to the request's reply inbox, which
EdgeX responders ignore) raises 503 at once instead of waiting for the timeout.

A requester subscribes once, not per request: per bus connection and responder one persistent subscription to
``edgex.response.<responder>.*`` and one to a status inbox ``<inbox>.*`` (each request replies to its own token
under it); a request waits on a future keyed by its response subject. Two SUBs and two UNSUBs per request (and
the flush that made sure the server had them) cost about a third of a command's round trip.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref

from nats.aio.client import Client
from nats.aio.msg import Msg

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import (
    CONTENT_JSON,
    CONTENT_TEXT,
    Format,
    MessageEnvelope,
    decode_envelope,
    encode_envelope,
    new_envelope,
    new_request_headers,
)
from edgewatch.common.bus.errors import BusDecodeError
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import ServiceUnavailableError
from edgewatch.common.contracts.ids import random_uuid

__all__ = ["PendingReply", "edgex_request", "edgex_respond", "edgex_send", "edgex_send_new"]

_NO_RESPONDERS = "503"


async def edgex_request(
    bus: NatsBus,
    subject: str,
    request: MessageEnvelope,
    *,
    responder: str,
    timeout: float,
    fmt: Format = "nats",
) -> MessageEnvelope:
    """Publish ``request`` on ``subject`` and wait for the answer on the responder's response subject.

    Returns:
        The response envelope (``error_code`` 1 carries the responder's error text; it is not raised).

    Raises:
        ServiceUnavailableError: nobody subscribes to ``subject``, no answer within ``timeout`` seconds, or the
            answer is not an EdgeX envelope.
    """
    pending = await edgex_send(bus, subject, request, responder=responder, fmt=fmt)
    return await pending.answer(timeout)


class PendingReply:
    """A request on the wire whose answer is still to come (:func:`edgex_send`); await :meth:`answer` once."""

    def __init__(
        self,
        responses: _Responses,
        key: str,
        inbox: str,
        fut: asyncio.Future[MessageEnvelope],
        subject: str,
        responder: str,
    ) -> None:
        self._responses = responses
        self._key = key
        self._inbox = inbox
        self._fut = fut
        self.subject = subject
        self.responder = responder

    async def answer(self, timeout: float) -> MessageEnvelope:
        """The answer, within ``timeout`` seconds from now.

        Raises:
            ServiceUnavailableError: as :func:`edgex_request`.
        """
        try:
            return await asyncio.wait_for(self._fut, timeout)
        except TimeoutError as e:
            raise ServiceUnavailableError(f"{self.responder} did not answer {self.subject} within {timeout:g}s") from e
        finally:
            self.forget()

    def forget(self) -> None:
        """Stop waiting (an answer that still comes is ignored)."""
        self._responses.waiting.pop(self._key, None)
        self._responses.statuses.pop(self._inbox, None)


async def edgex_send(
    bus: NatsBus, subject: str, request: MessageEnvelope, *, responder: str, fmt: Format = "nats"
) -> PendingReply:
    """The first half of :func:`edgex_request`: publish ``request`` and return at once.

    A caller that sends in a given order (core-command: a device's commands in arrival order) sends here, one
    after another, and awaits the answers apart: a request does not wait for the one before it to be answered.
    """
    body, headers = encode_envelope(request, fmt)
    return await _send(bus, subject, body, headers or None, request.request_id, responder)


async def edgex_send_new(
    bus: NatsBus, subject: str, payload: bytes, *, correlation_id: str, responder: str, fmt: Format = "nats"
) -> PendingReply:
    """:func:`edgex_send` of ``new_envelope(payload, correlation_id=correlation_id)`` (a JSON payload, fresh
    request id). In the ``nats`` format its headers are written straight (``new_request_headers``), with no
    envelope model: rules' SETs, on the actuation path, where every step costs tens of microseconds on a loaded
    gateway's cold caches. Other formats build the envelope."""
    if fmt != "nats":
        request = new_envelope(payload, correlation_id=correlation_id)
        return await edgex_send(bus, subject, request, responder=responder, fmt=fmt)
    request_id = random_uuid()
    headers = new_request_headers(correlation_id or random_uuid(), request_id)
    return await _send(bus, subject, payload, headers, request_id, responder)


async def _send(
    bus: NatsBus, subject: str, body: bytes, headers: dict[str, str] | None, request_id: str, responder: str
) -> PendingReply:
    responses = await _responses_of(bus, responder)
    fut: asyncio.Future[MessageEnvelope] = asyncio.get_running_loop().create_future()
    key = topics.response(responder, request_id)
    inbox = responses.next_inbox()
    responses.waiting[key] = (fut, subject, responder)
    responses.statuses[inbox] = (fut, subject)
    pending = PendingReply(responses, key, inbox, fut, subject, responder)
    try:
        await bus.nc.publish(subject, body, reply=inbox, headers=headers)
    except BaseException:
        pending.forget()
        raise
    return pending


class _Responses:
    """One connection's persistent response subscriptions and the requests waiting on them."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.inbox = nc.new_inbox()
        self.responders: set[str] = set()
        self.status_subscribed = False
        self.waiting: dict[str, tuple[asyncio.Future[MessageEnvelope], str, str]] = {}
        self.statuses: dict[str, tuple[asyncio.Future[MessageEnvelope], str]] = {}
        self.lock = asyncio.Lock()
        self._tokens = itertools.count(1)

    def next_inbox(self) -> str:
        """A reply subject under the status inbox, unique to one request."""
        return f"{self.inbox}.{next(self._tokens)}"

    async def on_reply(self, msg: Msg) -> None:
        entry = self.waiting.get(msg.subject)
        if entry is None or entry[0].done():
            return  # an answer nobody here waits for (another requester's, or after a timeout)
        fut, subject, responder = entry
        try:
            fut.set_result(decode_envelope(msg))
        except BusDecodeError as e:
            fut.set_exception(ServiceUnavailableError(f"{responder} answered {subject} with a malformed reply: {e}"))

    async def on_status(self, msg: Msg) -> None:
        entry = self.statuses.get(msg.subject)
        if entry is not None and not entry[0].done() and msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
            entry[0].set_exception(ServiceUnavailableError(f"no responder on {entry[1]}"))


_BY_CONNECTION: weakref.WeakKeyDictionary[Client, _Responses] = weakref.WeakKeyDictionary()


async def _responses_of(bus: NatsBus, responder: str) -> _Responses:
    """The connection's response subscriptions, subscribed to ``responder``'s answers (once, then reused)."""
    nc = bus.nc
    r = _BY_CONNECTION.get(nc)
    if r is None:
        r = _BY_CONNECTION[nc] = _Responses(nc)
    if responder in r.responders and r.status_subscribed:
        return r
    async with r.lock:  # a request that comes meanwhile waits here: it must not overtake the first one
        if responder in r.responders and r.status_subscribed:
            return r
        if not r.status_subscribed:
            await nc.subscribe(f"{r.inbox}.*", cb=r.on_status)
        await nc.subscribe(topics.response_all(responder), cb=r.on_reply)
        await bus.settle()  # the server has both before the first request goes out
        r.status_subscribed = True
        r.responders.add(responder)
    return r


async def edgex_respond(
    bus: NatsBus,
    request: MessageEnvelope,
    *,
    responder: str,
    payload: bytes = b"",
    content_type: str = CONTENT_JSON,
    error: str | None = None,
    fmt: Format = "nats",
) -> None:
    """Answer ``request`` on ``edgex.response.<responder>.<requestId>``; ``error`` sets errorCode 1 + text/plain."""
    env = MessageEnvelope(
        api_version=request.api_version or "v3",
        correlation_id=request.correlation_id,
        request_id=request.request_id,
        error_code=1 if error is not None else 0,
        payload=error.encode() if error is not None else payload,
        content_type=CONTENT_TEXT if error is not None else content_type,
    )
    body, headers = encode_envelope(env, fmt)
    await bus.publish(topics.response(responder, request.request_id), body, headers or None, kind="response")
