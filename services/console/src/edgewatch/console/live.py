"""LiveHub: the latest points per device, fanned out to open pages as Server-Sent Events frames.

Each bus message becomes one small JSON frame (``event: <kind>``). A device keeps the last ``history_points``
frames per kind, and at most ``history_bytes`` bytes of them, so a page that opens draws at once; the hub keeps
the histories of at most ``max_devices`` devices (the one updated least recently is forgotten first). Its memory
is therefore at most ``max_devices * len(KINDS) * history_bytes`` bytes of frames, and far less in fact: a
:class:`History` keeps its older frames in zlib-compressed blocks. A slow kind fills slowly (a feature or score frame
per device every 5 s, the features service's default window, fills 600 frames in 50 minutes), so a history sizes
its arena for the whole window when its first block is sealed: the console's RSS reaches its level minutes after a
device appears and stays there while the window fills. Every open page has a bounded
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

    Kept compact, so that a full history is small: the newest frames sit in an open block of at most
    ``BLOCK_FRAMES`` frames / ``BLOCK_BYTES`` bytes; a full block is joined into one zlib-compressed run (a feature
    frame repeats its names: they compress well) with an array of the frames' lengths. The blocks older than the
    window (``points`` frames, ``max_bytes`` bytes) are dropped whole; :meth:`frames` decompresses and cuts the
    window exactly, so a page sees the same frames as before.

    The compressed runs live in one arena (a ``bytearray``) per history, sized when the first block is sealed for
    the whole window at that block's compression (x ``RESERVE``): a slow kind (a frame every 5 s fills 600 frames
    in 50 minutes) takes its memory once, minutes after its device appears, instead of growing for most of an
    hour. Dropped runs leave space that is compacted in place when the arena's end is reached; the arena grows
    (to ``RESERVE`` x what it must hold) only when frames compress worse than that first block.
    """

    BLOCK_FRAMES = 64
    BLOCK_BYTES = 16 * 1024
    LEVEL = 6  # zlib level: a block every few seconds per device at most (readings are gated to 10/s)
    RESERVE = 1.25  # the arena's room over the window's estimated compressed size

    __slots__ = ("_arena", "_blocks", "_end", "_open", "_open_bytes", "count", "max_bytes", "nbytes", "points")

    def __init__(self, points: int, max_bytes: int) -> None:
        self.points = points
        self.max_bytes = max_bytes
        self._arena = bytearray()
        self._end = 0  # end of the newest run in the arena
        # (offset of the run in the arena, its length, the frames' lengths, their bytes uncompressed), oldest first
        self._blocks: deque[tuple[int, int, array[int], int]] = deque()
        self._open: list[bytes] = []
        self._open_bytes = 0
        self.count = 0  # frames held (blocks and open), the window and up to a block more
        self.nbytes = 0  # bytes of the frames held, uncompressed

    @property
    def reserved(self) -> int:
        """Bytes of the arena (the compressed runs and the room for more)."""
        return len(self._arena)

    @property
    def stored(self) -> int:
        """Bytes of memory the frames take: the arena, the runs' frame lengths and the open block."""
        lengths = sum(ls.itemsize * len(ls) for _o, _n, ls, _r in self._blocks)
        return len(self._arena) + lengths + self._open_bytes

    def append(self, data: bytes) -> None:
        """Add a frame, dropping the oldest blocks that fall out of the window (the newest frame is always kept)."""
        self._open.append(data)
        self._open_bytes += len(data)
        self.count += 1
        self.nbytes += len(data)
        if len(self._open) >= self.BLOCK_FRAMES or self._open_bytes >= self.BLOCK_BYTES:
            self._seal()
        blocks = self._blocks
        # the oldest block goes once the frames after it still hold the window (by count or by bytes)
        while blocks and (
            self.count - len(blocks[0][2]) >= self.points or self.nbytes - blocks[0][3] >= self.max_bytes
        ):
            _off, _n, lengths, raw = blocks.popleft()
            self.count -= len(lengths)
            self.nbytes -= raw
        if not blocks:
            self._end = 0

    def _seal(self) -> None:
        lengths = array("I", map(len, self._open))
        blob = zlib.compress(b"".join(self._open), self.LEVEL)
        offset = self._place(blob, len(lengths))  # may compact: the blocks' offsets change, not the deque
        self._blocks.append((offset, len(blob), lengths, self._open_bytes))
        self._open = []
        self._open_bytes = 0

    def _place(self, blob: bytes, frames: int) -> int:
        """Copy a compressed run into the arena (compacting or growing it first if it must); returns its offset."""
        n = len(blob)
        arena = self._arena
        if self._end + n > len(arena) and self._blocks:  # compact: the live runs move to the front, in place
            first = self._blocks[0][0]
            if first:
                live = self._end - first
                arena[0:live] = arena[first : self._end]
                blocks = self._blocks
                for i, (o, k, ls, r) in enumerate(blocks):
                    blocks[i] = (o - first, k, ls, r)
                self._end = live
        if self._end + n > len(arena):
            # room for what the arena holds at most (the window and two blocks: the one the window starts in and
            # the one being sealed) at this run's compression, or for what is held now, with RESERVE over it
            fit = min(self.points, max(1, self.max_bytes // max(1, self._open_bytes // frames)))
            window = (fit + 2 * self.BLOCK_FRAMES) * n // frames
            size = int(self.RESERVE * max(window, self._end + n))
            grown = bytearray(size)
            grown[0 : self._end] = arena[0 : self._end]
            self._arena = arena = grown
        offset = self._end
        arena[offset : offset + n] = blob
        self._end = offset + n
        return offset

    def frames(self) -> list[bytes]:
        """The window, oldest first: the newest ``points`` frames, as many as fit in ``max_bytes`` (at least one)."""
        out: list[bytes] = []
        budget = self.max_bytes
        for data in reversed(self._open):
            if out and (len(out) >= self.points or len(data) > budget):
                return out[::-1]
            out.append(data)
            budget -= len(data)
        arena = self._arena
        for offset, n, lengths, _raw in reversed(self._blocks):
            body = zlib.decompress(arena[offset : offset + n])
            end = len(body)
            for size in reversed(lengths):
                if out and (len(out) >= self.points or size > budget):
                    return out[::-1]
                out.append(body[end - size : end])
                budget -= size
                end -= size
        return out[::-1]

    @property
    def window_bytes(self) -> int:
        """Bytes of the frames in the window (what a page that opens receives), from the lengths alone: the health
        check reads it for every history, and decompressing them all for a sum is not needed."""
        total, budget, n = 0, self.max_bytes, 0
        lengths = chain(map(len, reversed(self._open)), *(reversed(ls) for _o, _n, ls, _r in reversed(self._blocks)))
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
    def history_reserved(self) -> int:
        """Bytes of the histories' arenas (:attr:`History.reserved`)."""
        return sum(h.reserved for h in self._history.values())

    @property
    def history_memory(self) -> int:
        """Bytes of memory the histories' frames take now (arenas with their room, frame lengths, open blocks)."""
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
