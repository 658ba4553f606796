"""In-memory index of the stored events: what queries filter, sort and count without reading the stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from edgewatch.common.contracts.event import Event

__all__ = ["EventIndex", "IndexEntry", "ReadingRef"]

# Device names and resource-name tuples repeat in every event of a device: one shared object each, instead of one
# per entry (an entry held about 0.9 KB; a full 256 MB event stream indexes some 290,000 events). Cleared when it
# grows past _MAX_SHARED (names are bounded by the devices' profiles; a flood of new names only costs a rebuild).
_SHARED: dict[object, object] = {}
_MAX_SHARED = 65_536


def _shared(value: object) -> object:
    if len(_SHARED) >= _MAX_SHARED:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One stored event: its stream sequence and the fields queries use."""

    seq: int
    id: str
    device: str
    origin: int
    resources: tuple[str, ...]
    reading_origins: tuple[int, ...]  # empty when every reading has the event's origin (the usual case)

    @classmethod
    def of(cls, seq: int, e: Event) -> IndexEntry:
        """Index an event stored at ``seq``."""
        origins = tuple(r.origin or e.origin for r in e.readings)
        return cls(
            seq,
            e.id,
            _shared(e.device_name),  # type: ignore[arg-type]
            e.origin,
            _shared(tuple(r.resource_name for r in e.readings)),  # type: ignore[arg-type]
            () if all(o == e.origin for o in origins) else origins,
        )

    def reading_origin(self, pos: int) -> int:
        """Origin (ns) of the reading at ``pos``."""
        return self.reading_origins[pos] if self.reading_origins else self.origin


@dataclass(frozen=True, slots=True)
class ReadingRef:
    """One reading: the event entry and the position in its readings."""

    entry: IndexEntry
    pos: int

    @property
    def origin(self) -> int:
        """Origin of the reading (ns)."""
        return self.entry.reading_origin(self.pos)


class EventIndex:
    """Events by sequence and by id; ordered views by origin descending (EdgeX order)."""

    def __init__(self) -> None:
        self.by_seq: dict[int, IndexEntry] = {}
        self.by_id: dict[str, IndexEntry] = {}
        self._sorted: list[IndexEntry] | None = None
        self._floor = 0  # every entry below this sequence was dropped by drop_below

    def add(self, entry: IndexEntry) -> None:
        """Add (or replace) an entry."""
        old = self.by_id.get(entry.id)
        if old is not None and old.seq != entry.seq:
            self.by_seq.pop(old.seq, None)
        self.by_seq[entry.seq] = entry
        self.by_id[entry.id] = entry
        self._sorted = None

    def remove(self, seqs: list[int]) -> None:
        """Drop entries by sequence."""
        for s in seqs:
            e = self.by_seq.pop(s, None)
            if e is not None and self.by_id.get(e.id) is e:
                del self.by_id[e.id]
        if seqs:
            self._sorted = None

    def drop_below(self, first_seq: int) -> None:
        """Forget entries the stream no longer holds (retention removed them); a scan only when the floor moved."""
        if first_seq <= self._floor:
            return
        self.remove([s for s in self.by_seq if s < first_seq])
        self._floor = first_seq

    def ordered(self) -> list[IndexEntry]:
        """Entries by origin descending (newest first), then sequence descending."""
        if self._sorted is None:
            self._sorted = sorted(self.by_seq.values(), key=lambda e: (e.origin, e.seq), reverse=True)
        return self._sorted

    def events(self, keep: Callable[[IndexEntry], bool] | None = None) -> list[IndexEntry]:
        """Ordered entries passing ``keep``."""
        return [e for e in self.ordered() if keep is None or keep(e)]

    def readings(self, keep: Callable[[IndexEntry, int], bool]) -> list[ReadingRef]:
        """Readings passing ``keep(entry, position)``, by origin descending."""
        refs = [ReadingRef(e, i) for e in self.ordered() for i in range(len(e.resources)) if keep(e, i)]
        refs.sort(key=lambda r: (r.origin, r.entry.seq), reverse=True)
        return refs

    def __len__(self) -> int:
        return len(self.by_seq)

    def __iter__(self) -> Iterator[IndexEntry]:
        return iter(self.by_seq.values())
