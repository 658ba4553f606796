"""edgewatch-healthcheck URL: exit 0 when URL answers 2xx (http/https), or accepts a connection (tcp://host:port).

The images' healthcheck (compose, Helm probes may use it too). One argument without spaces: podman's Docker API
re-splits a healthcheck command on whitespace. HTTPS is verified with $EDGEWATCH_HEALTHCHECK_CAFILE if set.
"""

import os
import socket
import ssl
import sys
import urllib.parse
import urllib.request


def main() -> int:
    url = sys.argv[1]
    parsed = urllib.parse.urlsplit(url)
    try:
        if parsed.scheme == "tcp":
            socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=3).close()
            return 0
        ca = os.environ.get("EDGEWATCH_HEALTHCHECK_CAFILE")
        ctx = ssl.create_default_context(cafile=ca) if parsed.scheme == "https" else None
        with urllib.request.urlopen(url, timeout=3, context=ctx) as r:  # noqa: S310 - a fixed local URL
            return 0 if 200 <= r.status < 300 else 1
    except OSError as e:
        print(f"{url}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
