"""The error text of a failed EdgeX command on the bus (envelope ``errorCode`` 1), with the error's kind kept.

EdgeX's device SDK answers a failed command on the bus with ``errorCode`` 1 and the error's text only; the
kind, and so the HTTP status, reaches only REST callers. edgewatch's device service and core-command prefix
the text with the status (``"400 pump-1/Speed: 3500 is above maximum 3000"``), which an EdgeX client still
reads as plain text, and core-command maps it back to the kind it answers with. An EdgeX ``BaseResponse`` JSON
text is read too. A text with neither (a stock EdgeX device service) is a failure of the device service that
cannot be classified: 502 (Communication), never 500, which stays for faults of the service answering.
"""

from __future__ import annotations

import json
import re
from typing import Final

from edgewatch.common.contracts.errors import EdgeXError, ErrorKind, http_status

__all__ = ["error_text", "kind_for_status", "parse_error_text", "remote_error"]

_PREFIX: Final = re.compile(r"^([45]\d\d) (.*)$", re.DOTALL)
_KINDS: Final[dict[int, ErrorKind]] = {}
for _kind in ErrorKind:  # the first kind listed for a status is its canonical one (400 -> ContractInvalid)
    _KINDS.setdefault(http_status(_kind), _kind)


def error_text(e: EdgeXError) -> str:
    """``"<status> <message>"``: the errorCode-1 payload of ``e``."""
    return f"{e.status} {e.message}"


def kind_for_status(status: int) -> ErrorKind:
    """The EdgeX error kind answered with ``status``; an unknown status is Communication (502)."""
    return _KINDS.get(status, ErrorKind.COMMUNICATION)


def parse_error_text(text: str) -> tuple[int | None, str]:
    """``(status, message)`` of an errorCode-1 payload; ``status`` None when the text carries none."""
    m = _PREFIX.match(text)
    if m is not None:
        return int(m.group(1)), m.group(2)
    try:
        doc = json.loads(text)
    except ValueError:
        return None, text
    if isinstance(doc, dict) and isinstance(doc.get("statusCode"), int) and doc["statusCode"] >= 400:
        return int(doc["statusCode"]), str(doc.get("message") or text)
    return None, text


def remote_error(text: str, context: str) -> EdgeXError:
    """The error a responder's errorCode-1 ``text`` stands for, its message prefixed with ``context``."""
    status, message = parse_error_text(text)
    kind = kind_for_status(status) if status is not None else ErrorKind.COMMUNICATION
    return EdgeXError(f"{context}: {message}", kind=kind)
