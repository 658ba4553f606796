"""What every console response carries (CSP and friends) and how a request proves its session."""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgewatch.console.errors import CsrfError, NotLoggedInError
from edgewatch.console.session import COOKIE, Session, SessionStore

__all__ = ["CSP", "UI_PREFIX", "SecurityHeadersMiddleware", "is_public", "require_session"]

UI_PREFIX = "/ui"

# Everything from the console itself: no inline script or style, no framing, no plugins, forms only to itself.
# uPlot sets element styles from script (CSSOM), which style-src does not govern.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_public(path: str) -> bool:
    """Paths the bearer-token middleware leaves to the console: its pages guard themselves with the session."""
    return path == "/" or path == UI_PREFIX or path.startswith(UI_PREFIX + "/")


class SecurityHeadersMiddleware:
    """Adds the CSP and the other hardening headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def require_session(sessions: SessionStore, request: Request) -> Session:
    """The request's live session; a mutating request must also echo the session's CSRF token.

    Raises:
        NotLoggedInError: no live session (401).
        CsrfError: a mutation without the session's CSRF header (403).
    """
    s = sessions.get(request.cookies.get(COOKIE))
    if s is None:
        raise NotLoggedInError()
    if request.method in _MUTATING:
        got = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(got.encode(), s.csrf.encode()):
            raise CsrfError()
    return s
