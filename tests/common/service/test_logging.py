"""configure_logging: one JSON line per record on stderr, named by service; per-request INFO of the HTTP client and
server libraries is dropped, their warnings are not."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from edgewatch.common.service.logging import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "uvicorn.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in quiet.items():
        logging.getLogger(name).setLevel(lvl)


def test_records_are_json_lines_and_http_libraries_per_request_info_is_dropped(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("edgewatch-test", "INFO")
    logging.getLogger("edgewatch.test").info("device marked DOWN", extra={"device": "pump-1"})
    logging.getLogger("httpx").info('HTTP Request: POST http://127.0.0.1:59950/api/v3/sync/batch "HTTP/1.1 200 OK"')
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /api/v3/ping HTTP/1.1" 200')
    logging.getLogger("httpx").warning("connection pool is full")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(r["logger"], r["level"], r["msg"]) for r in lines] == [
        ("edgewatch.test", "INFO", "device marked DOWN"),
        ("httpx", "WARNING", "connection pool is full"),
    ]
    assert lines[0]["service"] == "edgewatch-test" and lines[0]["device"] == "pump-1"
