"""Structured JSON logs (one object per line) carrying service name and correlation ID."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "correlation_id", "service_name", "set_level"]

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")
service_name: contextvars.ContextVar[str] = contextvars.ContextVar("service_name", default="")
"""The service a line comes from where one process serves several (``serve_hosts``); empty: the formatter's."""

_LEVELS = {"TRACE": logging.DEBUG, "WARN": logging.WARNING}
_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format records as JSON lines; extra fields passed with ``extra=`` are kept."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": service_name.get() or self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = correlation_id.get()
        if cid:
            out["correlationId"] = cid
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                out[k] = v if isinstance(v, (str, int, float, bool, type(None))) else repr(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"))


def set_level(level: str) -> None:
    """Apply a Writable.LogLevel value to the root logger."""
    logging.getLogger().setLevel(_LEVELS.get(level.upper(), getattr(logging, level.upper(), logging.INFO)))


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route all logging to stderr as JSON lines for ``service``."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_edgewatch", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler._edgewatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    set_level(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request at INFO ("HTTP Request: POST ..."): sync's uploads alone made six lines a second
    # in the demo. The services log their calls' outcomes themselves; httpx's warnings and errors still pass.
    logging.getLogger("httpx").setLevel(logging.WARNING)
