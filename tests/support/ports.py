"""Free loopback ports for test servers."""

from __future__ import annotations

from edgewatch.suite.layout import free_port as _suite_free_port

__all__ = ["free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now, below the kernel's ephemeral range where it is known (as
    ``edgewatch.suite.layout.free_port``: no outgoing connection takes it before the test server binds it)."""
    return _suite_free_port()
