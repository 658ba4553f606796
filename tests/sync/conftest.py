"""Sync fixtures: a live receiver (in-process, real HTTP port) to upload to."""

from __future__ import annotations

from tests.receiver.support import receiver

__all__ = ["receiver"]
