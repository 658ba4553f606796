"""Maps NATS / JetStream failures (server down, timeout, no stream responder) to EdgeX 503 answers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import nats.errors
from nats.js.errors import ServiceUnavailableError as JsUnavailable

from edgewatch.common.contracts.errors import ServiceUnavailableError

__all__ = ["unavailable_on_bus_errors"]


@contextlib.contextmanager
def unavailable_on_bus_errors(what: str) -> Iterator[None]:
    """Re-raise bus and JetStream outages inside the block as ServiceUnavailableError (503)."""
    try:
        yield
    except (
        nats.errors.TimeoutError,
        nats.errors.NoRespondersError,
        nats.errors.ConnectionClosedError,
        nats.errors.OutboundBufferLimitError,
        nats.errors.StaleConnectionError,
        JsUnavailable,
        TimeoutError,
    ) as e:
        raise ServiceUnavailableError(f"{what}: message bus / JetStream unavailable ({type(e).__name__})") from e
