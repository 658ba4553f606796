"""Keeps httpx's command-line client out of a service process (imported for this side effect alone).

``import httpx`` also imports ``httpx._main``, its command-line client, which loads click, rich and pygments
wherever they are installed (about 3 MB of RSS in every service that makes HTTP requests: ingest, rules, sync, the
console). No service runs that client. A module set to ``None`` in ``sys.modules`` cannot be imported (the import
raises ``ImportError``), and httpx handles exactly that as "the cli extra is not installed": ``httpx.main`` then only
prints how to install it. Everything else of httpx is unchanged. This module is imported by
:mod:`edgewatch.common.service` before any service module, so before the first ``import httpx``; where httpx was
already imported it does nothing.
"""

from __future__ import annotations

import sys

__all__: list[str] = []

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "cannot be imported"
