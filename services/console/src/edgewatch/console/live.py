"""LiveHub: the latest points per device, fanned out to open pages as Server-Sent Events frames.

Each bus message becomes one small JSON frame (``event: <kind>``). A device keeps the last ``history_points``
frames per kind, and at most ``history_bytes`` bytes of them, so a page that opens draws at once; the hub keeps
the histories of at most ``max_devices`` devices (the one updated least recently is forgotten first). Its memory
is therefore at most ``max_devices * len(KINDS) * history_bytes`` bytes of frames, and far less in fact: a
:class:`History` keeps its older frames in zlib-compressed blocks. A slow kind fills slowly (a feature or score frame
per device every 5 s, the features service's default window, fills 600 frames in 50 minutes), so compact storage is
what keeps the console's RSS nearly flat while it fills. Every open page has a bounded
queue, and a page that falls ``stream_queue`` frames behind is dropped (its EventSource reconnects and starts from
the history again), so a slow browser can neither grow the console's memory nor hold up the bus.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from array import array
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

__all__ = ["KINDS", "History", "Listener", "LiveHub", "frame"]

KINDS = ("score", "feature", "reading", "alert")


def frame(kind: str, doc: dict[str, Any]) -> bytes:
    """One SSE frame: ``event: kind`` and the JSON document on one ``data:`` line."""
    return b"event: " + kind.encode() + b"\ndata: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n"


class History:
    """The last frames of one device and kind: at most ``points`` frames and ``max_bytes`` bytes of them.

    Kept compact, so that a full history is small and the memory of a slow kind (a frame every 5 s fills 600 frames
    in 50 minutes) barely grows while it fills: the newest frames sit in an open block of at most
    ``BLOCK_FRAMES`` frames / ``BLOCK_BYTES`` bytes; a full block is joined into one zlib-compressed bytes object
    (a feature frame repeats its names: they compress well) with an array of the frames' lengths. The blocks older
    than the window (``points`` frames, ``max_bytes`` bytes) are dropped whole; :meth:`frames` decompresses and cuts
    the window exactly, so a page sees the same frames as before.
    """

    BLOCK_FRAMES = 64
    BLOCK_BYTES = 16 * 1024
    LEVEL = 6  # zlib level: a block every few seconds per device at most (readings are gated to 10/s)

    __slots__ = ("_blocks", "_open", "_open_bytes", "count", "max_bytes", "nbytes", "points", "stored")

    def __init__(self, points: int, max_bytes: int) -> None:
        self.points = points
        self.max_bytes = max_bytes
        self._blocks: deque[tuple[bytes, array[int], int]] = deque()  # (zlib of the frames, their lengths, bytes)
        self._open: list[bytes] = []
        self._open_bytes = 0
        self.count = 0  # frames held (blocks and open), the window and up to a block more
        self.nbytes = 0  # bytes of the frames held, uncompressed
        self.stored = 0  # bytes of memory the frames take: compressed blocks, their lengths, the open block

    def append(self, data: bytes) -> None:
        """Add a frame, dropping the oldest blocks that fall out of the window (the newest frame is always kept)."""
        self._open.append(data)
        self._open_bytes += len(data)
        self.count += 1
        self.nbytes += len(data)
        self.stored += len(data)
        if len(self._open) >= self.BLOCK_FRAMES or self._open_bytes >= self.BLOCK_BYTES:
            self._seal()
        blocks = self._blocks
        # the oldest block goes once the frames after it still hold the window (by count or by bytes)
        while blocks and (
            self.count - len(blocks[0][1]) >= self.points or self.nbytes - blocks[0][2] >= self.max_bytes
        ):
            blob, lengths, raw = blocks.popleft()
            self.count -= len(lengths)
            self.nbytes -= raw
            self.stored -= len(blob) + lengths.itemsize * len(lengths)

    def _seal(self) -> None:
        lengths = array("I", map(len, self._open))
        blob = zlib.compress(b"".join(self._open), self.LEVEL)
        self._blocks.append((blob, lengths, self._open_bytes))
        self.stored += len(blob) + lengths.itemsize * len(lengths) - self._open_bytes
        self._open = []
        self._open_bytes = 0

    def frames(self) -> list[bytes]:
        """The window, oldest first: the newest ``points`` frames, as many as fit in ``max_bytes`` (at least one)."""
        out: list[bytes] = []
        budget = self.max_bytes
        for data in reversed(self._open):
            if out and (len(out) >= self.points or len(data) > budget):
                return out[::-1]
            out.append(data)
            budget -= len(data)
        for blob, lengths, _raw in reversed(self._blocks):
            body = zlib.decompress(blob)
            end = len(body)
            for n in reversed(lengths):
                if out and (len(out) >= self.points or n > budget):
                    return out[::-1]
                out.append(body[end - n : end])
                budget -= n
                end -= n
        return out[::-1]

    @property
    def window_bytes(self) -> int:
        """Bytes of the frames in the window (what a page that opens receives), from the lengths alone: the health
        check reads it for every history, and decompressing them all for a sum is not needed."""
        total, budget, n = 0, self.max_bytes, 0
        lengths = chain(map(len, reversed(self._open)), *(reversed(ls) for _b, ls, _r in reversed(self._blocks)))
        for size in lengths:
            if n and (n >= self.points or size > budget):
                break
            n += 1
            total += size
            budget -= size
        return total


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
            for data in hist.frames() if hist is not None else ():
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
        """Bytes of the frames in the histories' windows now (what pages that open would receive)."""
        return sum(h.window_bytes for h in self._history.values())

    @property
    def history_memory(self) -> int:
        """Bytes of memory the histories' frames take now (compressed blocks and open blocks)."""
        return sum(h.stored for h in self._history.values())

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
