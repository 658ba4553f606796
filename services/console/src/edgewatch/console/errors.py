"""Errors of edgewatch-console.

EdgeXError
└── ConsoleError
    ├── NotLoggedInError   401: no live session cookie
    ├── CsrfError          403: a mutation without the session's X-CSRF-Token
    └── LoginRefusedError  401: a wrong token at login
"""

from __future__ import annotations

from edgewatch.common.contracts.errors import EdgeXError, ErrorKind

__all__ = ["ConsoleError", "CsrfError", "LoginRefusedError", "NotLoggedInError"]


class ConsoleError(EdgeXError):
    """Base error of the console."""


class NotLoggedInError(ConsoleError):
    kind = ErrorKind.UNAUTHORIZED

    def __init__(self) -> None:
        super().__init__("log in first")


class CsrfError(ConsoleError):
    kind = ErrorKind.FORBIDDEN

    def __init__(self) -> None:
        super().__init__("missing or wrong X-CSRF-Token")


class LoginRefusedError(ConsoleError):
    kind = ErrorKind.UNAUTHORIZED

    def __init__(self) -> None:
        super().__init__("wrong token", field="token")
