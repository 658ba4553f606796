"""HTTPS sink: POST the compressed batch to the cloud receiver with a bearer token and an idempotency key."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from edgewatch.sync.config import SinkSection
from edgewatch.sync.sinks.base import BatchRefusedError, BatchTooLargeError, SinkError
from edgewatch.syncwire.batch import (
    BATCH_CONTENT_TYPE,
    BATCH_ENCODING,
    IDEMPOTENCY_HEADER,
    BatchAck,
    BatchHeader,
    RecordRow,
)

__all__ = ["BATCH_PATH", "ReceiverSink", "read_token"]

BATCH_PATH = "/api/v3/sync/batch"


def read_token(settings: SinkSection) -> str:
    """The bearer token (TokenFile wins over Token)."""
    if settings.token_file:
        with open(settings.token_file, encoding="utf-8") as f:
            return f.read().strip()
    return settings.token


class ReceiverSink:
    """Uploads to ``<Url>/api/v3/sync/batch``; any non-2xx answer or transport error is a SinkError."""

    name = "http"

    def __init__(self, settings: SinkSection) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        s = self.settings
        verify: bool | str = s.ca_file or s.verify_tls
        self._client = httpx.AsyncClient(base_url=s.url, timeout=s.timeout, verify=verify)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, header: BatchHeader, records: list[RecordRow], body: bytes) -> BatchAck:
        if self._client is None:
            raise SinkError("sink not started")
        headers = {
            "Content-Type": BATCH_CONTENT_TYPE,
            "Content-Encoding": BATCH_ENCODING,
            IDEMPOTENCY_HEADER: header.batch_id,
        }
        try:
            token = read_token(self.settings)
        except OSError as e:
            raise SinkError(f"Sink.TokenFile: {e}") from e
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = await self._client.post(BATCH_PATH, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise SinkError(f"{type(e).__name__}: {e}") from e
        if resp.status_code == 413:
            raise BatchTooLargeError("receiver: batch too large", status=413)
        if resp.status_code == 400:
            raise BatchRefusedError(f"receiver refused the batch: {resp.text[:300]}", status=400)
        if resp.status_code // 100 != 2:
            raise SinkError(f"receiver answered {resp.status_code}: {resp.text[:300]}", status=resp.status_code)
        try:
            return BatchAck.model_validate_json(resp.content)
        except ValidationError as e:
            raise SinkError(f"receiver ack is malformed: {e}") from e
