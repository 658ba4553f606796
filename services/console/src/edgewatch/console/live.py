"""LiveHub: the latest points per device, fanned out to open pages as Server-Sent Events frames.

Each bus message becomes one small JSON frame (``event: <kind>``). A device keeps the last ``history_points``
frames per kind, and at most ``history_bytes`` bytes of them, so a page that opens draws at once; the hub keeps
the histories of at most ``max_devices`` devices (the one updated least recently is forgotten first). Its memory
is therefore at most ``max_devices * len(KINDS) * history_bytes`` bytes of frames. A slow kind fills slowly: a
feature or score frame per device every 5 s (the features service's default window) fills 600 frames in 50
minutes, so the console's RSS rises for that long after a start and then stays flat. Every open page has a bounded
queue, and a page that falls ``stream_queue`` frames behind is dropped (its EventSource reconnects and starts from
the history again), so a slow browser can neither grow the console's memory nor hold up the bus.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "History", "Listener", "LiveHub", "frame"]

KINDS = ("score", "feature", "reading", "alert")


def frame(kind: str, doc: dict[str, Any]) -> bytes:
    """One SSE frame: ``event: kind`` and the JSON document on one ``data:`` line."""
    return b"event: " + kind.encode() + b"\ndata: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n"


class History:
    """The last frames of one device and kind: at most ``points`` frames and ``max_bytes`` bytes of them."""

    __slots__ = ("frames", "max_bytes", "nbytes", "points")

    def __init__(self, points: int, max_bytes: int) -> None:
        self.points = points
        self.max_bytes = max_bytes
        self.frames: deque[bytes] = deque()
        self.nbytes = 0

    def append(self, data: bytes) -> None:
        """Add a frame, dropping the oldest ones past either bound (the newest frame is always kept)."""
        frames = self.frames
        while frames and (len(frames) >= self.points or self.nbytes + len(data) > self.max_bytes):
            self.nbytes -= len(frames.popleft())
        frames.append(data)
        self.nbytes += len(data)


@dataclass(eq=False)
class Listener:
    """One open page watching one device."""

    device: str
    queue: asyncio.Queue[bytes]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class LiveHub:
    """Per-device histories and the pages listening to each device."""

    def __init__(
        self, history_points: int, queue_size: int, *, history_bytes: int = 512 * 1024, max_devices: int = 64
    ) -> None:
        self.history_points = history_points
        self.history_bytes = history_bytes
        self.max_devices = max_devices
        self.queue_size = queue_size
        self._history: dict[tuple[str, str], History] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()  # devices with a history, least recently updated first
        self._listeners: dict[str, set[Listener]] = {}
        self.latest_score: dict[str, dict[str, Any]] = {}
        self.frames_out = 0
        self.listeners_dropped = 0

    def publish(self, device: str, kind: str, doc: dict[str, Any]) -> None:
        """Record a frame for ``device`` and queue it for every page watching the device."""
        data = frame(kind, doc)
        hist = self._history.get((device, kind))
        if hist is None:
            hist = self._history[(device, kind)] = History(self.history_points, self.history_bytes)
        hist.append(data)
        recent = self._recent
        if device in recent:
            recent.move_to_end(device)
        else:
            recent[device] = None
            while len(recent) > self.max_devices:
                self.forget(next(iter(recent)))
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
            hist = self._history.get((device, kind))
            for data in hist.frames if hist is not None else ():
                lst.queue.put_nowait(data)
        self._listeners.setdefault(device, set()).add(lst)
        return lst

    def forget(self, device: str) -> None:
        """Drop a device's histories and latest score (its open pages keep receiving its live frames)."""
        self._recent.pop(device, None)
        self.latest_score.pop(device, None)
        for kind in KINDS:
            self._history.pop((device, kind), None)

    @property
    def history_size(self) -> int:
        """Bytes of frames kept in the histories now."""
        return sum(h.nbytes for h in self._history.values())

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
        return sorted(self._recent)
