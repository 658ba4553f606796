"""Server-side sessions: a random id in an HttpOnly, SameSite=Strict cookie; the REST token stays on the server."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["COOKIE", "Session", "SessionStore"]

COOKIE = "edgewatch_console"


@dataclass
class Session:
    """One logged-in operator: the REST token the console uses on their behalf, and a CSRF token for the page."""

    token: str
    created: float
    last_seen: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


class SessionStore:
    """Sessions by id, bounded in number, expiring when idle or old (monotonic clock)."""

    def __init__(self, idle_timeout: float, max_age: float, max_sessions: int) -> None:
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def create(self, token: str) -> tuple[str, Session]:
        """A new session for ``token``; the oldest session is dropped past ``max_sessions``."""
        self._expire()
        while len(self._sessions) >= self.max_sessions:
            self._sessions.popitem(last=False)
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        s = Session(token, now, now)
        self._sessions[sid] = s
        return sid, s

    def get(self, sid: str | None) -> Session | None:
        """The live session for a cookie value (touched), or None when unknown or expired."""
        if not sid:
            return None
        s = self._sessions.get(sid)
        if s is None:
            return None
        now = time.monotonic()
        if now - s.last_seen > self.idle_timeout or now - s.created > self.max_age:
            del self._sessions[sid]
            return None
        s.last_seen = now
        return s

    def drop(self, sid: str | None) -> None:
        """End a session (logout)."""
        if sid:
            self._sessions.pop(sid, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [k for k, s in self._sessions.items() if now - s.last_seen > self.idle_timeout]:
            del self._sessions[sid]
