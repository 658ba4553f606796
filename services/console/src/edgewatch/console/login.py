"""Who may log in: the operator gives the suite's REST token; the console checks it and keeps it server-side."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from edgewatch.console.upstream import Upstream

__all__ = ["TokenCheck"]

log = logging.getLogger(__name__)


class TokenCheck:
    """Checks a login token against the console's own ``Service.AuthToken[File]`` (the suite's REST token).

    When the console runs without a token (``edgewatch up --no-auth``), the token is checked by core-metadata
    instead: whatever core-metadata accepts is accepted, so a suite without REST auth has none here either.
    """

    def __init__(self, own_token: Callable[[], str], upstream: Upstream) -> None:
        self.own_token = own_token
        self.upstream = upstream

    async def accepts(self, token: str) -> bool:
        if not token:
            return False
        try:
            expected = self.own_token()
        except OSError:
            log.error("cannot read Service.AuthTokenFile; refusing logins")
            return False
        if expected:
            return hmac.compare_digest(token.encode(), expected.encode())
        reply = await self.upstream.call("core-metadata", "GET", "/device/all?limit=1", token)
        return reply.ok
