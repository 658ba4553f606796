"""core-metadata: device profiles, devices, device services and provision watchers on JetStream KV."""

from __future__ import annotations

__all__: list[str] = []
