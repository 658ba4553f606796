"""The live view's EdgeX event intake: which events it decodes (decimation) and how little of each it reads.

An event becomes one ``reading`` frame (its numeric and Bool readings by resource). Two things keep that cheap on a
gateway where every background microsecond delays the actuation path:

- :class:`ReadingGate` lets at most one event per ``Console.LiveReadingInterval`` seconds through per event subject
  (device service, profile, device, source), judged from the subject alone, so the events it holds back are never
  decoded. A page draws 600 points per chart; past 10 frames per second per source (the default) an operator sees
  no more on it, while the history a page opens with covers a longer time. What a page loses: the values of the
  events held back (a spike shorter than the interval between two kept events). Sources slower than the interval
  (the demo's fastest is 5 per second) are never held back. Its memory is bounded: ``max_keys`` subjects (past
  that it forgets them all and starts again, which lets one extra event per subject through).
- :func:`reading_values` reads the readings with :func:`~edgewatch.common.contracts.eventpeek.peek_readings` (msgspec,
  only the fields shown; about half the CPU of a full :func:`~edgewatch.common.contracts.eventcodec.decode_add_event`);
  an event it does not read the same way (CBOR, a value that does not parse, a missing field) is decoded fully, so a
  malformed event still raises as before and is dead-lettered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from edgewatch.common.bus.client import BusDecodeError
from edgewatch.common.contracts.eventcodec import EventDecodeError, decode_add_event
from edgewatch.common.contracts.eventpeek import peek_readings
from edgewatch.common.contracts.values import is_number
from edgewatch.common.contracts.valuetype import ValueType

__all__ = ["ReadingGate", "reading_values"]


class ReadingGate:
    """At most one event per ``interval`` seconds (on average) per key; ``interval`` 0 lets every event through."""

    def __init__(self, interval: float, max_keys: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self.held_back = 0
        self._clock = clock
        self._due: dict[str, float] = {}

    def admit(self, key: str) -> bool:
        """Whether the event on ``key`` becomes a frame (False: drop it undecoded)."""
        if self.interval <= 0:
            return True
        now = self._clock()
        due = self._due.get(key)
        if due is None:
            if len(self._due) >= self.max_keys:
                self._due.clear()  # bounded: forgetting costs one extra frame per subject
        elif now < due:
            self.held_back += 1
            return False
        # keep the cadence of a steady source (due + interval) unless it paused longer than an interval
        self._due[key] = due + self.interval if due is not None and now - due < self.interval else now + self.interval
        return True

    def __len__(self) -> int:
        return len(self._due)


class _Every:
    """A Collection that contains every resource name (the console shows them all)."""

    def __contains__(self, _name: object) -> bool:
        return True

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[str]:
        return iter(())


_EVERY: Any = _Every()


def _num(v: float) -> float | None:
    """JSON has no NaN/inf: those become gaps."""
    return v if math.isfinite(v) else None


def reading_values(payload: bytes, content_type: str | None) -> tuple[str, int, dict[str, float | None]]:
    """``(device, origin ns, {resource: value})`` of an event's numeric and Bool readings (Bool as 0/1; arrays,
    binary and null left out; NaN/inf as None). ``origin`` is the first kept reading's own (EdgeX gives each
    reading the event's origin unless it has its own), the event's when none is kept.

    Raises:
        BusDecodeError: the event does not decode.
    """
    peeked = peek_readings(payload, content_type, _EVERY)
    if peeked is not None:
        device, samples = peeked
        values = {name: _num(v) for name, v, _t in samples}
        return device, (samples[0][2] if samples else 0), values
    try:
        event = decode_add_event(payload, content_type).event
    except EventDecodeError as e:
        raise BusDecodeError(f"event: {e.message}") from e
    out: dict[str, float | None] = {}
    origin = 0
    for r in event.readings:
        if r.is_null or not (r.value_type.is_numeric or r.value_type is ValueType.BOOL):
            continue
        v = r.typed_value()
        if is_number(v):
            out[r.resource_name] = _num(float(v))
            origin = origin or r.origin or event.origin
    return event.device_name, origin or event.origin, out
