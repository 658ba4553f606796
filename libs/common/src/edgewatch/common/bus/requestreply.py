"""EdgeX-style request/reply: the responder answers on ``edgex.response.<responder>.<requestId>``.

This is how EdgeX's own services talk (COMPAT.md 5.1), so an edgewatch core-command can drive an EdgeX device
service over NATS and vice versa. A request never hangs: no answer within the timeout raises 503, and when nothing
subscribes to the request subject the server's no-responders status (sent to the request's reply inbox, which
EdgeX responders ignore) raises 503 at once instead of waiting for the timeout.
"""

from __future__ import annotations

import asyncio

from nats.aio.msg import Msg

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.envelope import (
    CONTENT_JSON,
    CONTENT_TEXT,
    Format,
    MessageEnvelope,
    decode_envelope,
    encode_envelope,
)
from edgewatch.common.bus.errors import BusDecodeError
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import ServiceUnavailableError

__all__ = ["edgex_request", "edgex_respond"]

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
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[MessageEnvelope] = loop.create_future()

    async def on_reply(msg: Msg) -> None:
        if fut.done():
            return
        try:
            fut.set_result(decode_envelope(msg))
        except BusDecodeError as e:
            fut.set_exception(ServiceUnavailableError(f"{responder} answered {subject} with a malformed reply: {e}"))

    async def on_status(msg: Msg) -> None:
        if not fut.done() and msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
            fut.set_exception(ServiceUnavailableError(f"no responder on {subject}"))

    nc = bus.nc
    inbox = nc.new_inbox()
    status_sub = await nc.subscribe(inbox, cb=on_status, max_msgs=1)
    sub = await nc.subscribe(topics.response(responder, request.request_id), cb=on_reply, max_msgs=1)
    try:
        body, headers = encode_envelope(request, fmt)
        await nc.publish(subject, body, reply=inbox, headers=headers or None)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError as e:
            raise ServiceUnavailableError(f"{responder} did not answer {subject} within {timeout:g}s") from e
    finally:
        for s in (sub, status_sub):
            try:
                await s.unsubscribe()
            except Exception:  # already auto-unsubscribed after max_msgs, or the connection is closed
                pass


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
