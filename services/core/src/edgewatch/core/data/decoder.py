"""Event bodies (REST and bus) decoded within the document depth: small ones inline, large ones in a parse worker."""

from __future__ import annotations

from collections.abc import Callable

from edgewatch.common.contracts.event import AddEventRequest
from edgewatch.common.contracts.eventcodec import decode_add_event_within
from edgewatch.common.service.settings import ServiceSection
from edgewatch.common.service.worker import INLINE_BYTES, ParseWorkers

__all__ = ["EventDecoder"]


class EventDecoder:
    """An event of up to ``inline_bytes`` is decoded on the loop; a larger one (up to MaxEventSize, 25 MB by
    default) in a parse worker, so no event holds the loop for more than a millisecond or two."""

    def __init__(
        self, workers: ParseWorkers, service: Callable[[], ServiceSection], inline_bytes: int = INLINE_BYTES
    ) -> None:
        self.workers = workers
        self.service = service
        self.inline_bytes = inline_bytes

    async def __call__(self, data: bytes, content_type: str) -> AddEventRequest:
        """The AddEventRequest in ``data``.

        Raises:
            StructureLimitError: nested deeper than Service.MaxDocumentDepth (400).
            EventDecodeError: not an event (400).
            SizeLimitError: past the parse worker's budget (413).
        """
        depth = self.service().max_document_depth
        if len(data) <= self.inline_bytes:
            return decode_add_event_within(data, content_type, depth)
        return await self.workers.run(decode_add_event_within, bytes(data), content_type, depth, what="event")
