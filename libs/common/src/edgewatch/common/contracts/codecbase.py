"""What the suite codec and its numpy half (:mod:`codecarray`) share: the array extension code and the decode error."""

from __future__ import annotations

__all__ = ["EXT_NDARRAY", "MessageDecodeError"]

EXT_NDARRAY = 1


class MessageDecodeError(ValueError):
    """A suite message could not be decoded into its wire model (the bus dead-letters it; never fatal)."""
