"""EdgeX-style request/reply: the responder answers on ``edgex.response.<responder>.<requestId>``.

This is how EdgeX's own services talk (COMPAT.md 5.1), so an edgewatch core-command can drive an EdgeX device
service over NATS and vice versa. A request never hangs: no answer within the timeout raises 503.
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
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.errors import ServiceUnavailableError

__all__ = ["edgex_request", "edgex_respond"]


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

    Raises:
        ServiceUnavailableError: no answer within ``timeout`` seconds.
    """
    fut: asyncio.Future[MessageEnvelope] = asyncio.get_running_loop().create_future()

    async def on_reply(msg: Msg) -> None:
        if not fut.done():
            fut.set_result(decode_envelope(msg))

    sub = await bus.nc.subscribe(topics.response(responder, request.request_id), cb=on_reply, max_msgs=1)
    try:
        body, headers = encode_envelope(request, fmt)
        await bus.publish(subject, body, headers, kind="request")
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError as e:
            raise ServiceUnavailableError(f"{responder} did not answer {subject} within {timeout:g}s") from e
    finally:
        try:
            await sub.unsubscribe()
        except Exception:
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
    """Answer ``request`` on ``edgex.response.<responder>.<requestId>``; ``error`` sets errorCode 1 + text."""
    env = MessageEnvelope(
        correlation_id=request.correlation_id,
        request_id=request.request_id,
        error_code=1 if error is not None else 0,
        payload=error.encode() if error is not None else payload,
        content_type=CONTENT_TEXT if error is not None else content_type,
    )
    body, headers = encode_envelope(env, fmt)
    await bus.publish(topics.response(responder, request.request_id), body, headers, kind="response")
