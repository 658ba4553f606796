"""Maps NATS / JetStream failures to EdgeX answers: outages (server down, timeout, no responder) to 503, an
entity larger than the server's max_payload to 413."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import nats.errors
from nats.js.errors import ServiceUnavailableError as JsUnavailable

from edgewatch.common.contracts.errors import ServiceUnavailableError
from edgewatch.common.contracts.limits import SizeLimitError

__all__ = ["unavailable_on_bus_errors"]


@contextlib.contextmanager
def unavailable_on_bus_errors(what: str) -> Iterator[None]:
    """Re-raise bus and JetStream outages inside the block as ServiceUnavailableError (503), and a write larger
    than the server accepts as SizeLimitError (413)."""
    try:
        yield
    except nats.errors.MaxPayloadError as e:
        raise SizeLimitError(
            f"{what}: larger than the message bus accepts (nats-server max_payload)", limit="MaxPayload"
        ) from e
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
