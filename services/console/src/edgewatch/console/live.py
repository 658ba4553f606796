"""LiveHub: the latest points per device, fanned out to open pages as Server-Sent Events frames.

Each bus message becomes one small JSON frame (``event: <kind>``). A device keeps the last ``history_points``
frames per kind so a page that opens draws at once; every open page has a bounded queue, and a page that falls
``stream_queue`` frames behind is dropped (its EventSource reconnects and starts from the history again), so a
slow browser can neither grow the console's memory nor hold up the bus.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "Listener", "LiveHub", "frame"]

KINDS = ("score", "feature", "reading", "alert")


def frame(kind: str, doc: dict[str, Any]) -> bytes:
    """One SSE frame: ``event: kind`` and the JSON document on one ``data:`` line."""
    return b"event: " + kind.encode() + b"\ndata: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n"


@dataclass(eq=False)
class Listener:
    """One open page watching one device."""

    device: str
    queue: asyncio.Queue[bytes]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class LiveHub:
    """Per-device histories and the pages listening to each device."""

    def __init__(self, history_points: int, queue_size: int) -> None:
        self.history_points = history_points
        self.queue_size = queue_size
        self._history: dict[tuple[str, str], deque[bytes]] = {}
        self._listeners: dict[str, set[Listener]] = {}
        self.latest_score: dict[str, dict[str, Any]] = {}
        self.frames_out = 0
        self.listeners_dropped = 0

    def publish(self, device: str, kind: str, doc: dict[str, Any]) -> None:
        """Record a frame for ``device`` and queue it for every page watching the device."""
        data = frame(kind, doc)
        hist = self._history.get((device, kind))
        if hist is None:
            hist = self._history[(device, kind)] = deque(maxlen=self.history_points)
        hist.append(data)
        if kind == "score":
            self.latest_score[device] = doc
        for lst in tuple(self._listeners.get(device, ())):
            try:
                lst.queue.put_nowait(data)
                self.frames_out += 1
            except asyncio.QueueFull:
                self.listeners_dropped += 1
                self.remove(lst)
                lst.dropped.set()

    def add(self, device: str) -> Listener:
        """A new listener for ``device``, its queue primed with the device's history (oldest first, by kind)."""
        lst = Listener(device, asyncio.Queue(self.queue_size + self.history_points * len(KINDS)))
        for kind in KINDS:
            for data in self._history.get((device, kind), ()):
                lst.queue.put_nowait(data)
        self._listeners.setdefault(device, set()).add(lst)
        return lst

    def remove(self, lst: Listener) -> None:
        """Stop feeding a listener."""
        group = self._listeners.get(lst.device)
        if group is not None:
            group.discard(lst)
            if not group:
                del self._listeners[lst.device]

    def watching(self, device: str) -> bool:
        """Whether some page watches ``device`` now."""
        return device in self._listeners

    @property
    def listener_count(self) -> int:
        return sum(len(g) for g in self._listeners.values())

    def devices(self) -> list[str]:
        """Devices seen on the bus."""
        return sorted({d for d, _ in self._history})
