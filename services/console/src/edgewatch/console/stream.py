"""``GET /ui/api/stream/{device}``: the device's live frames as Server-Sent Events (history first, then live)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from edgewatch.console.live import LiveHub
from edgewatch.console.session import SessionStore

__all__ = ["sse_frames"]

_BATCH = 256  # frames written in one chunk when a page is behind (fewer writes, same bytes)


async def sse_frames(
    hub: LiveHub, sessions: SessionStore, sid: str, device: str, keepalive: float
) -> AsyncIterator[bytes]:
    """Frames for one page until it goes away, its session ends, or it falls too far behind (then it reconnects)."""
    lst = hub.add(device)
    try:
        yield b"retry: 2000\n\n"
        while True:
            try:
                first = await asyncio.wait_for(lst.queue.get(), keepalive)
            except TimeoutError:
                # an open page keeps its session (as the overview's refresh does), up to Console.SessionMaxAge
                if lst.dropped.is_set() or sessions.get(sid) is None:
                    return
                yield b": keep-alive\n\n"
                continue
            chunk = [first]
            while len(chunk) < _BATCH and not lst.queue.empty():
                chunk.append(lst.queue.get_nowait())
            yield b"".join(chunk)
            if lst.dropped.is_set() and lst.queue.empty():
                return
    finally:
        hub.remove(lst)
